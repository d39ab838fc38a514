// Learned masks: scores thresholded at tau, the straight-through gradient
// g * W0 reaching the scores, frozen weights, revival of a pruned entry.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "trainer/sparsity/learned_mask_criterion.h"

namespace distill::sparsity {
namespace {

torch::Tensor scoresOf(const LearnedMaskCriterion& c) {
  for (const auto& t : c.state()) {
    if (t.name == "learned/scores/w") return t.tensor;
  }
  ADD_FAILURE() << "no scores";
  return {};
}

TEST(LearnedMaskCriterion, StraightThroughGradientMovesScoresAcrossTheThreshold) {
  LearnedMaskCriterion c(/*threshold=*/0.005, /*score_init=*/0.01, /*score_lr=*/0.01);
  torch::Tensor w = torch::tensor({1.0f, -2.0f, 3.0f, 4.0f}).view({2, 2}).requires_grad_(true);
  c.attach({{"w", w}});
  EXPECT_TRUE(torch::equal(c.score("w", w), torch::full({2, 2}, 0.01f)));
  ASSERT_TRUE(c.threshold().has_value());
  EXPECT_EQ(*c.threshold(), 0.005);

  // dL/dS = g * W0 = [0.5, 1, -0.3, 0] -> Adam's first step: S -= 0.01 * sign
  w.mutable_grad() = torch::tensor({0.5f, -0.5f, -0.1f, 0.0f}).view({2, 2});
  c.observe({{"w", w}});
  EXPECT_TRUE(torch::allclose(scoresOf(c).grad(), torch::tensor({0.5f, 1.0f, -0.3f, 0.0f}).view({2, 2})));
  c.step(/*lr of the student, unused=*/1.0);
  const torch::Tensor s = c.score("w", w);
  EXPECT_NEAR(s[0][0].item<float>(), 0.0, 1e-6);   // below the threshold now: pruned
  EXPECT_NEAR(s[0][1].item<float>(), 0.0, 1e-6);
  EXPECT_NEAR(s[1][0].item<float>(), 0.02, 1e-6);  // grew
  EXPECT_NEAR(s[1][1].item<float>(), 0.01, 1e-6);  // no gradient: unchanged
  // The frozen weight is the copy taken at attach, whatever the live tensor holds.
  {
    torch::NoGradGuard no_grad;
    w.zero_();
  }
  EXPECT_TRUE(torch::equal(c.effectiveWeight("w"), torch::tensor({1.0f, -2.0f, 3.0f, 4.0f}).view({2, 2})));
  EXPECT_EQ(c.trainableCount(), 4);
}

}  // namespace
}  // namespace distill::sparsity
