// Dynamic loss scaling (fp16): back-off on overflow, growth after a run of finite steps.
#include <limits>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "trainer/precision/loss_scaler.h"

namespace distill::precision {
namespace {

TEST(DynamicLossScaler, UnscalesFiniteGradients) {
  DynamicLossScaler scaler({/*initial_scale=*/8.0, 2.0, 0.5, 1000});
  std::vector<sparsity::NamedTensor> p = {{"w", torch::zeros({2}).requires_grad_()}, {"b", torch::zeros({1})}};
  p[0].tensor.mutable_grad() = torch::tensor({8.0f, -4.0f});
  EXPECT_TRUE(scaler.unscale(p));
  EXPECT_TRUE(torch::equal(p[0].tensor.grad(), torch::tensor({1.0f, -0.5f})));
  EXPECT_EQ(scaler.scale(), 8.0);
}

TEST(DynamicLossScaler, OverflowSkipsAndBacksOff) {
  DynamicLossScaler scaler({8.0, 2.0, 0.5, 1000});
  std::vector<sparsity::NamedTensor> p = {{"w", torch::zeros({2}).requires_grad_()}};
  p[0].tensor.mutable_grad() = torch::tensor({std::numeric_limits<float>::infinity(), 1.0f});
  EXPECT_FALSE(scaler.unscale(p));
  EXPECT_EQ(p[0].tensor.grad()[1].item<float>(), 1.0f);  // left as it was
  EXPECT_EQ(scaler.scale(), 4.0);
  p[0].tensor.mutable_grad() = torch::tensor({std::numeric_limits<float>::quiet_NaN(), 1.0f});
  EXPECT_FALSE(scaler.unscale(p));
  EXPECT_EQ(scaler.scale(), 2.0);
}

TEST(DynamicLossScaler, GrowsAfterGrowthIntervalFiniteSteps) {
  DynamicLossScaler scaler({4.0, 2.0, 0.5, 3});
  scaler.update(true);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 4.0);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 8.0);
  scaler.update(true);
  scaler.update(false);  // an overflow restarts the count
  scaler.update(true);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 4.0);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 8.0);
}

}  // namespace
}  // namespace distill::precision
