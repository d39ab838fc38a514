// Logit KL against hand-computed values: zero for equal logits, T^2 scaling.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/logit_kl.h"

namespace distill::kd {
namespace {

torch::Tensor rows(std::vector<double> values, int64_t classes) {
  return torch::tensor(values, torch::kFloat).reshape({-1, classes});
}

TEST(LogitKL, MatchesHandComputedValueAtTemperatureOne) {
  // teacher [ln 3, 0] -> p = [3/4, 1/4]; student [0, 0] -> q = [1/2, 1/2]
  // KL = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.75 * 0.405465 - 0.25 * 0.693147 = 0.130812
  torch::Tensor student = rows({0, 0}, 2).requires_grad_();
  const torch::Tensor teacher = rows({std::log(3.0), 0}, 2);
  const torch::Tensor kl = logitKL(student, teacher, 1.0);
  const double expected = 0.75 * std::log(1.5) + 0.25 * std::log(0.5);
  EXPECT_NEAR(expected, 0.130812, 1e-6);
  EXPECT_NEAR(kl.item<double>(), expected, 1e-6);

  // d KL / d s = (q - p) / T * T^2 = q - p at T = 1: [1/2 - 3/4, 1/2 - 1/4]
  kl.sum().backward();
  EXPECT_TRUE(torch::allclose(student.grad(), rows({-0.25, 0.25}, 2), 1e-6, 1e-6)) << student.grad();
}

TEST(LogitKL, MatchesHandComputedValueAtTemperatureTwo) {
  // teacher [ln 3, 0] / 2 = [ln sqrt 3, 0] -> p = [sqrt3/(sqrt3+1), 1/(sqrt3+1)] = [0.633975, 0.366025]
  // student [0, 0] -> q = [1/2, 1/2]; KL = sum p ln(2p) = 0.633975*ln 1.267949 + 0.366025*ln 0.732051
  //   = 0.633975*0.237401 - 0.366025*0.311905 = 0.150506 - 0.114165 = 0.036341; times T^2 = 4: 0.145363
  const double r3 = std::sqrt(3.0);
  const double p0 = r3 / (r3 + 1), p1 = 1 / (r3 + 1);
  const double expected = 4.0 * (p0 * std::log(2 * p0) + p1 * std::log(2 * p1));
  EXPECT_NEAR(expected, 0.145363, 1e-6);
  const torch::Tensor kl = logitKL(rows({0, 0}, 2), rows({std::log(3.0), 0}, 2), 2.0);
  EXPECT_NEAR(kl.item<double>(), expected, 1e-6);
}

TEST(LogitKL, IsZeroForEqualLogits) {
  const torch::Tensor logits = rows({1.5, -2.0, 0.25, 3.0, 3.0, -7.0}, 3);
  const torch::Tensor kl = logitKL(logits, logits.clone(), 1.7);
  EXPECT_TRUE(torch::allclose(kl, torch::zeros({2}), 0, 1e-6)) << kl;
}

TEST(LogitKL, ScalesWithTemperatureSquared) {
  // logitKL(T*s, T*t, T) sees the same distributions as logitKL(s, t, 1), so it is T^2 times larger.
  const torch::Tensor s = rows({0.3, -1.2, 2.0, 1.0, 0.0, -1.0}, 3);
  const torch::Tensor t = rows({1.1, 0.4, -0.5, -2.0, 0.5, 1.5}, 3);
  const double temperature = 3.0;
  const torch::Tensor base = logitKL(s, t, 1.0);
  const torch::Tensor scaled = logitKL(s * temperature, t * temperature, temperature);
  EXPECT_GT(base.min().item<double>(), 0.01);
  EXPECT_TRUE(torch::allclose(scaled, base * 9.0, 1e-5, 1e-6)) << scaled << base;
}

TEST(LogitKL, TeacherIsNotDifferentiatedAndMinusInfinityIsAllowed) {
  // teacher [0, -inf] -> p = [1, 0]; student [0, 0] -> q = [1/2, 1/2]; KL = 1 * ln(1 / (1/2)) = ln 2
  torch::Tensor student = rows({0, 0}, 2).requires_grad_();
  torch::Tensor teacher = rows({0, -std::numeric_limits<double>::infinity()}, 2).requires_grad_();
  const torch::Tensor kl = logitKL(student, teacher, 1.0);
  EXPECT_NEAR(kl.item<double>(), std::log(2.0), 1e-6);
  kl.sum().backward();
  EXPECT_FALSE(teacher.grad().defined());
  // q - p = [1/2 - 1, 1/2 - 0]
  EXPECT_TRUE(torch::allclose(student.grad(), rows({-0.5, 0.5}, 2), 1e-6, 1e-6)) << student.grad();
}

TEST(LogitKL, RejectsBadArguments) {
  EXPECT_THROW(logitKL(torch::zeros({2, 3}), torch::zeros({2, 4}), 1.0), Error);
  EXPECT_THROW(logitKL(torch::zeros({2, 3}), torch::zeros({2, 3}), 0.0), Error);
}

}  // namespace
}  // namespace distill::kd
