// Entropy with 0 log 0 = 0.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "trainer/distill/entropy.h"

namespace distill::kd {
namespace {

TEST(Entropy, HandValuesAndZeroProbabilities) {
  // [1/2, 1/2, 0] -> ln 2; [3/4, 1/4, 0] -> -(3/4 ln 3/4 + 1/4 ln 1/4) = 0.562335; [1, 0, 0] -> 0
  const torch::Tensor p = torch::tensor({0.5, 0.5, 0.0, 0.75, 0.25, 0.0, 1.0, 0.0, 0.0}, torch::kFloat).reshape({3, 3});
  const torch::Tensor h = entropy(p, 1);
  EXPECT_NEAR(h[0].item<double>(), std::log(2.0), 1e-6);
  EXPECT_NEAR(h[1].item<double>(), 0.562335, 1e-6);
  EXPECT_EQ(h[2].item<double>(), 0.0);
  EXPECT_NEAR(entropy(p.t(), 0)[1].item<double>(), 0.562335, 1e-6);
}

}  // namespace
}  // namespace distill::kd
