// PST: the importance formula, the gradients that reach U, V, A, B, R, C
// (through W_eff and the straight-through estimator), frozen weights and the
// trainable-parameter count, against hand-computed values.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "trainer/sparsity/pst_criterion.h"

namespace distill::sparsity {
namespace {

// A handle to a live state tensor (shares storage with the criterion's).
torch::Tensor factor(const PstCriterion& c, const std::string& name) {
  for (const auto& t : c.state()) {
    if (t.name == name) return t.tensor;
  }
  ADD_FAILURE() << "no state tensor " << name;
  return {};
}

void set(const PstCriterion& c, const std::string& name, std::vector<float> values) {
  torch::NoGradGuard no_grad;
  torch::Tensor t = factor(c, name);
  t.copy_(torch::tensor(values).view(t.sizes()));
}

TEST(PstCriterion, ImportanceCombinesMagnitudeLowRankAndStructuredTerms) {
  PstCriterion c({/*rank=*/1, /*beta=*/2.0, /*alpha1=*/0.5, /*alpha2=*/1.0, /*lr_scale=*/1.0});
  torch::Tensor w = torch::tensor({1.0f, -2.0f, 3.0f, 0.0f}).view({2, 2}).requires_grad_(true);
  c.attach({{"w", w}});
  set(c, "pst/U/w", {1, 0});
  set(c, "pst/V/w", {0.5, -1});
  set(c, "pst/A/w", {2, 1});
  set(c, "pst/B/w", {1, 3});
  set(c, "pst/R/w", {0.1, 0.2});
  set(c, "pst/C/w", {1, -1});
  // W0 + 2 U V = [[1 + 1, -2 - 2], [3, 0]] = [[2, -4], [3, 0]]
  EXPECT_TRUE(torch::allclose(c.effectiveWeight("w"), torch::tensor({2.0f, -4.0f, 3.0f, 0.0f}).view({2, 2})));
  // |.| = [[2,4],[3,0]]; 0.5 A B = 0.5 [[2,6],[1,3]] = [[1,3],[0.5,1.5]]; R 1^T + 1 C^T = [[1.1,-0.9],[1.2,-0.8]]
  const torch::Tensor expected = torch::tensor({4.1f, 6.1f, 4.7f, 0.7f}).view({2, 2});
  EXPECT_TRUE(torch::allclose(c.score("w", w), expected, 1e-5, 1e-6)) << c.score("w", w);
}

TEST(PstCriterion, GradientsReachTheFactorsNotTheFrozenWeight) {
  PstCriterion c({/*rank=*/1, /*beta=*/1.0, /*alpha1=*/1.0, /*alpha2=*/1.0, /*lr_scale=*/1.0});
  torch::Tensor w = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({2, 2}).requires_grad_(true);
  c.attach({{"w", w}});
  set(c, "pst/U/w", {1, 2});
  set(c, "pst/V/w", {0, 0});
  set(c, "pst/A/w", {1, -1});
  set(c, "pst/B/w", {0, 0});
  w.mutable_grad() = torch::tensor({1.0f, 0.0f, -1.0f, 2.0f}).view({2, 2});
  c.observe({{"w", w}});
  // dV = U^T g = [1*1 + 2*-1, 1*0 + 2*2] = [-1, 4]; dU = g V^T = 0
  EXPECT_TRUE(torch::allclose(factor(c, "pst/V/w").grad(), torch::tensor({-1.0f, 4.0f}).view({1, 2})));
  EXPECT_TRUE(torch::allclose(factor(c, "pst/U/w").grad(), torch::zeros({2, 1})));
  // dS = g * W_dense = [[1, 0], [-3, 8]]; dB = A^T dS = [1 + 3, 0 - 8] = [4, -8]; dR = row sums; dC = column sums
  EXPECT_TRUE(torch::allclose(factor(c, "pst/B/w").grad(), torch::tensor({4.0f, -8.0f}).view({1, 2})));
  EXPECT_TRUE(torch::allclose(factor(c, "pst/R/w").grad(), torch::tensor({1.0f, 5.0f})));
  EXPECT_TRUE(torch::allclose(factor(c, "pst/C/w").grad(), torch::tensor({-2.0f, 8.0f})));
  const torch::Tensor v_before = factor(c, "pst/V/w").clone();
  c.step(0.1);
  // Adam's first step moves each entry by lr against the sign of its gradient.
  EXPECT_TRUE(torch::allclose(factor(c, "pst/V/w"), v_before + torch::tensor({0.1f, -0.1f}).view({1, 2}), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(factor(c, "pst/W0/w"), torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({2, 2})));
  EXPECT_TRUE(c.freezesWeights());
}

TEST(PstCriterion, TrainableCountIsSmallForRealisticShapes) {
  PstCriterion c({/*rank=*/4, 1.0, 1.0, 1.0, 1.0});
  torch::Tensor w = torch::zeros({256, 1024}).requires_grad_(true);
  c.attach({{"w", w}});
  // U, A: 256x4; V, B: 4x1024; R: 256; C: 1024
  EXPECT_EQ(c.trainableCount(), 2 * 4 * (256 + 1024) + 256 + 1024);
  EXPECT_LT(static_cast<double>(c.trainableCount()) / w.numel(), 0.05);
}

TEST(PstCriterion, RejectsNonMatrices) {
  PstCriterion c({1, 1.0, 1.0, 1.0, 1.0});
  EXPECT_THROW(c.attach({{"bias", torch::zeros({4})}}), std::exception);
}

}  // namespace
}  // namespace distill::sparsity
