// Cosine distillation by hand, with and without a projection.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/cosine_loss.h"

namespace distill::kd {
namespace {

torch::Tensor reps(std::vector<double> v, int64_t d) { return torch::tensor(v, torch::kFloat).reshape({-1, d}); }

TEST(CosineLoss, OneMinusCosine) {
  // [1,0] vs [1,0]: 0; [1,1] vs [0,1]: 1 - 1/sqrt(2) = 0.292893; [0,0] vs [1,0]: 1
  const torch::Tensor loss = cosineLoss(reps({1, 0, 1, 1, 0, 0}, 2), reps({1, 0, 0, 1, 1, 0}, 2), {});
  const torch::Tensor expected = torch::tensor({0.0, 1.0 - 1.0 / std::sqrt(2.0), 1.0}, torch::kFloat);
  EXPECT_TRUE(torch::allclose(loss, expected, 1e-6, 1e-6)) << loss;
}

TEST(CosineLoss, ZeroVectorHasAFiniteGradient) {
  torch::Tensor zero = torch::zeros({1, 2}).requires_grad_();
  cosineLoss(zero, reps({1, 0}, 2), {}).sum().backward();
  EXPECT_TRUE(torch::isfinite(zero.grad()).all().item<bool>()) << zero.grad();
}

TEST(CosineLoss, ProjectionAndGradients) {
  // W = [[2,0,0],[0,2,0]]: [1,1,9] -> [2,2], cos with [0,1] = 1/sqrt(2)
  torch::Tensor student = reps({1, 1, 9}, 3).requires_grad_();
  torch::Tensor teacher = reps({0, 1}, 2).requires_grad_();
  torch::Tensor w = reps({2, 0, 0, 0, 2, 0}, 3).requires_grad_();
  const torch::Tensor loss = cosineLoss(student, teacher, w);
  EXPECT_NEAR(loss.item<double>(), 1.0 - 1.0 / std::sqrt(2.0), 1e-6);
  loss.sum().backward();
  EXPECT_GT(student.grad().abs().sum().item<double>(), 0.0);
  EXPECT_GT(w.grad().abs().sum().item<double>(), 0.0);
  EXPECT_FALSE(teacher.grad().defined());
  EXPECT_THROW(cosineLoss(reps({1, 1, 9}, 3), teacher, {}), Error);
}

}  // namespace
}  // namespace distill::kd
