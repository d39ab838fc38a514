// Competency (Dynamic KD) combiner: w = softmax(-KL(teacher || student) / tau), by hand.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/combiner.h"

namespace distill::kd {
namespace {

config::DistillSpec spec(double tau) {
  config::DistillSpec s;
  s.set_combiner("competency");
  s.set_temperature(1.0);
  s.mutable_competency()->set_temperature(tau);
  return s;
}

TEST(CompetencyCombiner, TheTeacherTheStudentCanFollowCountsMore) {
  // student [ln3, 0] -> [3/4, 1/4]. Teacher A = the same: KL 0.
  // Teacher B [0,0] -> [1/2,1/2]: KL = 1/2 ln(2/3) + 1/2 ln 2 = 1/2 ln(4/3), exp(-KL) = sqrt(3)/2
  // tau = 1: w_A = 1 / (1 + sqrt(3)/2) = 0.535898;  tau = 1/2: exp(-2 KL) = 3/4 -> w_A = 1 / 1.75 = 0.571429
  const double l3 = std::log(3.0);
  const torch::Tensor student = torch::tensor({l3, 0.0}, torch::kFloat).reshape({1, 2});
  const std::vector<torch::Tensor> teachers = {student.clone(), torch::zeros({1, 2})};
  const double w1 = 1.0 / (1.0 + std::sqrt(3.0) / 2.0);
  EXPECT_NEAR(w1, 0.535898, 1e-6);

  const auto combiner = makeCombiner(spec(1.0));
  EXPECT_EQ(combiner->name(), "competency");
  const torch::Tensor w = combiner->weights(teachers, student.requires_grad_());
  EXPECT_FALSE(w.requires_grad());
  EXPECT_TRUE(torch::allclose(w, torch::tensor({w1, 1 - w1}, torch::kFloat).reshape({2, 1}), 1e-6, 1e-6)) << w;
  const torch::Tensor sharp = makeCombiner(spec(0.5))->weights(teachers, student);
  EXPECT_TRUE(torch::allclose(sharp, torch::tensor({1 / 1.75, 0.75 / 1.75}, torch::kFloat).reshape({2, 1}), 1e-6, 1e-6))
      << sharp;
}

TEST(CompetencyCombiner, RejectsBadTemperatures) {
  EXPECT_THROW(makeCombiner(spec(0.0)), Error);
}

}  // namespace
}  // namespace distill::kd
