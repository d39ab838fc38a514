// Global gradient-norm clipping.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "trainer/optim/grad_clip.h"

namespace distill::optim {
namespace {

// grads [3] and [4]: global norm sqrt(9 + 16) = 5; a third param has no grad.
std::vector<sparsity::NamedTensor> params() {
  std::vector<sparsity::NamedTensor> p = {{"a", torch::zeros({1}).requires_grad_()},
                                          {"b", torch::zeros({1, 1}).requires_grad_()},
                                          {"c", torch::zeros({2}).requires_grad_()}};
  p[0].tensor.mutable_grad() = torch::tensor({3.0f});
  p[1].tensor.mutable_grad() = torch::tensor({4.0f}).reshape({1, 1});
  return p;
}

TEST(ClipGradNorm, ScalesToMaxNorm) {
  const auto p = params();
  EXPECT_NEAR(clipGradNorm(p, 1.0), 5.0, 1e-6);
  // scale = 1 / (5 + 1e-6): [3, 4] -> [0.6, 0.8]
  EXPECT_NEAR(p[0].tensor.grad().item<double>(), 0.6, 1e-6);
  EXPECT_NEAR(p[1].tensor.grad().item<double>(), 0.8, 1e-6);
  EXPECT_NEAR(clipGradNorm(p, 0.0), 1.0, 1e-6);  // the new norm, measured only
}

TEST(ClipGradNorm, LeavesSmallOrUnlimitedGradientsAlone) {
  const auto p = params();
  EXPECT_NEAR(clipGradNorm(p, 10.0), 5.0, 1e-6);
  EXPECT_EQ(p[0].tensor.grad().item<float>(), 3.0f);
  EXPECT_NEAR(clipGradNorm(p, 0.0), 5.0, 1e-6);
  EXPECT_EQ(p[1].tensor.grad().item<float>(), 4.0f);
  EXPECT_EQ(clipGradNorm({{"c", torch::zeros({2})}}, 1.0), 0.0);  // no gradients at all
}

TEST(ClipGradNorm, NonFiniteNormLeavesGradientsUntouched) {
  auto p = params();
  p[0].tensor.mutable_grad() = torch::tensor({std::numeric_limits<float>::infinity()});
  EXPECT_FALSE(std::isfinite(clipGradNorm(p, 1.0)));
  EXPECT_EQ(p[1].tensor.grad().item<float>(), 4.0f);
}

}  // namespace
}  // namespace distill::optim
