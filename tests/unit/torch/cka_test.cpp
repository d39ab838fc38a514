// Linear CKA: 1 for identical (and scaled, rotated) representations, 0 for
// orthogonal ones, r^2 for 1-D ones; gradients reach the student only.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/cka.h"

namespace distill::kd {
namespace {

torch::Tensor reps(std::vector<double> v, int64_t d) { return torch::tensor(v, torch::kFloat).reshape({-1, d}); }

TEST(CKA, IdenticalScaledAndRotatedRepresentationsGiveOne) {
  const torch::Tensor x = reps({1, 2, 0, -1, 3, 1, 2, 2, -2, 0, 1, 5}, 3);  // [4,3]
  EXPECT_NEAR(linearCKA(x, x).item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(linearCKA(x, 3.5 * x).item<double>(), 1.0, 1e-6);   // isotropic scaling
  EXPECT_NEAR(linearCKA(x, x + 10.0).item<double>(), 1.0, 1e-6);  // a shift is centred away
  // A rotation in the first two coordinates, and a wider teacher (zero-padded).
  const double c = std::cos(0.7), s = std::sin(0.7);
  const torch::Tensor rotation = reps({c, -s, 0, s, c, 0, 0, 0, 1}, 3);
  EXPECT_NEAR(linearCKA(x, torch::matmul(x, rotation)).item<double>(), 1.0, 1e-5);
  EXPECT_NEAR(linearCKA(x, torch::cat({x, torch::zeros({4, 2})}, 1)).item<double>(), 1.0, 1e-6);
}

TEST(CKA, OrthogonalRepresentationsGiveZero) {
  // Centred columns [1,-1,0,0] and [0,0,1,-1] are orthogonal: Ys^T Yt = 0.
  EXPECT_NEAR(linearCKA(reps({1, -1, 0, 0}, 1), reps({0, 0, 1, -1}, 1)).item<double>(), 0.0, 1e-7);
}

TEST(CKA, OneDimensionalIsSquaredCorrelation) {
  // xs = [1,2,3] -> ys = [-1,0,1]; xt = [1,3,2] -> yt = [-1,1,0]
  // CKA = (ys.yt)^2 / (|ys|^2 |yt|^2) = 1 / (2 * 2) = 0.25; loss 0.75 for each sample
  torch::Tensor student = reps({1, 2, 3}, 1).requires_grad_();
  torch::Tensor teacher = reps({1, 3, 2}, 1).requires_grad_();
  EXPECT_NEAR(linearCKA(student, teacher).item<double>(), 0.25, 1e-6);
  const torch::Tensor loss = ckaLoss(student, teacher);
  ASSERT_EQ(loss.sizes(), torch::IntArrayRef({3}));
  EXPECT_TRUE(torch::allclose(loss, torch::full({3}, 0.75)));
  loss.mean().backward();
  EXPECT_GT(student.grad().abs().sum().item<double>(), 0.0);
  EXPECT_FALSE(teacher.grad().defined());
}

TEST(CKA, NoVariationGivesZeroNotNaN) {
  torch::Tensor one = reps({1, 2}, 2).requires_grad_();
  const torch::Tensor loss = ckaLoss(one, reps({3, 4, 5}, 3));  // a batch of one
  EXPECT_EQ(loss.item<double>(), 1.0);
  loss.sum().backward();
  EXPECT_TRUE(torch::equal(one.grad(), torch::zeros({1, 2})));
  EXPECT_THROW(linearCKA(reps({1, 2}, 1), reps({1, 2, 3}, 1)), Error);
}

}  // namespace
}  // namespace distill::kd
