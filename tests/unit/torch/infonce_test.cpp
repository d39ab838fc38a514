// InfoNCE with logits worked out by hand.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/infonce.h"

namespace distill::kd {
namespace {

torch::Tensor reps(std::vector<double> v, int64_t d) { return torch::tensor(v, torch::kFloat).reshape({-1, d}); }

TEST(InfoNCE, PerfectMatchEqualsHandComputedCrossEntropy) {
  // s = t = [e1, e2] (lengths do not matter: normalised), tau = 0.5
  // logits = I / 0.5 = [[2,0],[0,2]] -> loss_b = log(e^2 + e^0) - 2 = log(1 + e^-2) = 0.126928
  const double expected = std::log(1.0 + std::exp(-2.0));
  EXPECT_NEAR(expected, 0.126928, 1e-6);
  const torch::Tensor loss = infoNCE(reps({3, 0, 0, 0.5}, 2), reps({1, 0, 0, 2}, 2), {}, 0.5);
  ASSERT_EQ(loss.sizes(), torch::IntArrayRef({2}));
  EXPECT_TRUE(torch::allclose(loss, torch::full({2}, expected), 1e-6, 1e-6)) << loss;
}

TEST(InfoNCE, WrongPartnerCostsMore) {
  // s = [e1, e1], t = [e1, e2], tau = 1: logits rows [1, 0] and [1, 0]
  // loss_0 = log(e + 1) - 1 = 0.313262, loss_1 = log(e + 1) - 0 = 1.313262
  const double l = std::log(std::exp(1.0) + 1.0);
  const torch::Tensor loss = infoNCE(reps({1, 0, 1, 0}, 2), reps({1, 0, 0, 1}, 2), {}, 1.0);
  EXPECT_NEAR(loss[0].item<double>(), l - 1.0, 1e-6);
  EXPECT_NEAR(loss[1].item<double>(), l, 1e-6);
  EXPECT_NEAR(l - 1.0, 0.313262, 1e-6);
}

TEST(InfoNCE, ProjectionOfAWiderStudentAndGradients) {
  // W keeps the first two of three coordinates: [2,0,5] -> [2,0], [0,3,-1] -> [0,3]: the perfect match again
  torch::Tensor student = reps({2, 0, 5, 0, 3, -1}, 3).requires_grad_();
  torch::Tensor teacher = reps({1, 0, 0, 1}, 2).requires_grad_();
  torch::Tensor w = reps({1, 0, 0, 0, 1, 0}, 3).requires_grad_();
  const torch::Tensor loss = infoNCE(student, teacher, w, 0.5);
  EXPECT_TRUE(torch::allclose(loss, torch::full({2}, std::log(1.0 + std::exp(-2.0))), 1e-6, 1e-6)) << loss;
  loss.sum().backward();
  EXPECT_TRUE(student.grad().defined());
  EXPECT_GT(w.grad().abs().sum().item<double>(), 0.0);
  EXPECT_FALSE(teacher.grad().defined());
  EXPECT_THROW(infoNCE(reps({1, 0, 0}, 3), reps({1, 0}, 2), {}, 0.5), Error);  // widths differ, no projection
  EXPECT_THROW(infoNCE(reps({1, 0}, 2), reps({1, 0}, 2), {}, 0.0), Error);
}

TEST(InfoNCE, BatchOfOneHasNoNegatives) {
  EXPECT_NEAR(infoNCE(reps({1, 2}, 2), reps({-3, 1}, 2), {}, 0.1).item<double>(), 0.0, 1e-6);
}

}  // namespace
}  // namespace distill::kd
