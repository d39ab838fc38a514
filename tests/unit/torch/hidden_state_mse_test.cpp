// Hidden-state MSE by hand: identity and learned projections, padding, and
// gradients to the student and the projection but not the teacher.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/hidden_state_mse.h"

namespace distill::kd {
namespace {

torch::Tensor t3(std::vector<double> v, int64_t b, int64_t t, int64_t d) {
  return torch::tensor(v, torch::kFloat).reshape({b, t, d});
}

TEST(HiddenStateMSE, HandValuesWithAndWithoutAnIdentityProjection) {
  // token 0: student [1,2], teacher [1,0] -> (0 + 4) / 2 = 2
  // token 1: student [3,4], teacher [0,4] -> (9 + 0) / 2 = 4.5
  // both real: (2 + 4.5) / 2 = 3.25; token 1 padding: 2
  const torch::Tensor student = t3({1, 2, 3, 4, 1, 2, 3, 4}, 2, 2, 2);
  const torch::Tensor teacher = t3({1, 0, 0, 4, 1, 0, 0, 4}, 2, 2, 2);
  const torch::Tensor mask = torch::tensor({1, 1, 1, 0}, torch::kLong).reshape({2, 2});
  const torch::Tensor expected = torch::tensor({3.25, 2.0}, torch::kFloat);
  EXPECT_TRUE(torch::allclose(hiddenStateMSE(student, teacher, mask, {}), expected)) << hiddenStateMSE(student, teacher, mask, {});
  EXPECT_TRUE(torch::allclose(hiddenStateMSE(student, teacher, mask, torch::eye(2)), expected));
}

TEST(HiddenStateMSE, ProjectionMapsTheStudentToTheTeachersWidth) {
  // W = [[1, 1]]: [1,2] -> 3, [3,4] -> 7; teacher [1], [7]: (3-1)^2 = 4, 0 -> mean 2
  torch::Tensor student = t3({1, 2, 3, 4}, 1, 2, 2).requires_grad_();
  torch::Tensor teacher = t3({1, 7}, 1, 2, 1).requires_grad_();
  torch::Tensor w = torch::tensor({1.0, 1.0}, torch::kFloat).reshape({1, 2}).requires_grad_();
  const torch::Tensor mask = torch::ones({1, 2}, torch::kLong);
  const torch::Tensor loss = hiddenStateMSE(student, teacher, mask, w);
  ASSERT_EQ(loss.sizes(), torch::IntArrayRef({1}));
  EXPECT_NEAR(loss.item<double>(), 2.0, 1e-6);

  loss.sum().backward();
  // loss = ((Ws_0 - 1)^2 + (Ws_1 - 7)^2) / 2; only token 0 has an error (2):
  // d/ds_0 = (Ws_0 - 1) W = [2, 2], d/dW = (Ws_0 - 1) s_0 = [2, 4]
  EXPECT_TRUE(torch::allclose(student.grad(), t3({2, 2, 0, 0}, 1, 2, 2))) << student.grad();
  EXPECT_TRUE(torch::allclose(w.grad(), torch::tensor({2.0, 4.0}, torch::kFloat).reshape({1, 2}))) << w.grad();
  EXPECT_FALSE(teacher.grad().defined());
}

TEST(HiddenStateMSE, SampleWithoutRealTokensIsZero) {
  const torch::Tensor loss =
      hiddenStateMSE(torch::ones({1, 2, 2}), torch::zeros({1, 2, 2}), torch::zeros({1, 2}, torch::kLong), {});
  EXPECT_EQ(loss.item<double>(), 0.0);
}

TEST(HiddenStateMSE, WidthMismatchWithoutProjectionIsAnError) {
  const torch::Tensor mask = torch::ones({1, 2}, torch::kLong);
  EXPECT_THROW(hiddenStateMSE(torch::ones({1, 2, 2}), torch::ones({1, 2, 3}), mask, {}), Error);
  EXPECT_THROW(hiddenStateMSE(torch::ones({1, 2, 2}), torch::ones({1, 2, 3}), mask, torch::ones({2, 3})), Error);
  EXPECT_THROW(hiddenStateMSE(torch::ones({1, 2, 2}), torch::ones({1, 3, 2}), mask, {}), Error);
}

}  // namespace
}  // namespace distill::kd
