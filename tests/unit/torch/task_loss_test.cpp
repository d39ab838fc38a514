// Per-sample cross-entropy against hand-computed values.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/task_loss.h"

namespace distill::kd {
namespace {

TEST(TaskLoss, MatchesHandComputedValuesAndIgnoresLabelMinus100) {
  // row 0: logits [0, 0]     -> p = [1/2, 1/2], label 0 -> -ln(1/2) = ln 2
  // row 1: logits [ln 3, 0]  -> p = [3/4, 1/4], label 1 -> -ln(1/4) = ln 4
  // row 2: label -100        -> 0, whatever the logits
  torch::Tensor logits = torch::tensor({0.0, 0.0, std::log(3.0), 0.0, 5.0, -5.0}, torch::kFloat)
                             .reshape({3, 2})
                             .requires_grad_();
  const torch::Tensor labels = torch::tensor({0, 1, -100}, torch::kLong);
  const torch::Tensor ce = crossEntropyPerSample(logits, labels);
  ASSERT_EQ(ce.sizes(), torch::IntArrayRef({3}));
  EXPECT_NEAR(ce[0].item<double>(), std::log(2.0), 1e-6);
  EXPECT_NEAR(ce[1].item<double>(), std::log(4.0), 1e-6);
  EXPECT_EQ(ce[2].item<double>(), 0.0);

  // d CE / d logits = softmax - onehot: row 0 [1/2 - 1, 1/2], row 1 [3/4, 1/4 - 1], row 2 none.
  ce.sum().backward();
  const torch::Tensor expected = torch::tensor({-0.5, 0.5, 0.75, -0.75, 0.0, 0.0}, torch::kFloat).reshape({3, 2});
  EXPECT_TRUE(torch::allclose(logits.grad(), expected, 1e-6, 1e-6)) << logits.grad();
}

TEST(TaskLoss, RejectsLabelsOutsideTheVocabulary) {
  const torch::Tensor logits = torch::zeros({2, 3});
  EXPECT_THROW(crossEntropyPerSample(logits, torch::tensor({0, 3}, torch::kLong)), Error);
  EXPECT_THROW(crossEntropyPerSample(logits, torch::tensor({-1, 0}, torch::kLong)), Error);
  EXPECT_THROW(crossEntropyPerSample(logits, torch::tensor({0, 1, 2}, torch::kLong)), Error);  // batch mismatch
  EXPECT_THROW(crossEntropyPerSample(logits, torch::tensor({0, 1}, torch::kInt)), Error);      // not int64
}

}  // namespace
}  // namespace distill::kd
