// The whole step loss with known numbers: task CE, combined KL, ignored rows.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/distillation_loss.h"

namespace distill::kd {
namespace {

// KL([3/4,1/4] || [1/2,1/2]) = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.130812
const double kK1 = 0.75 * std::log(1.5) + 0.25 * std::log(0.5);

torch::Tensor rows(std::vector<double> values) { return torch::tensor(values, torch::kFloat).reshape({-1, 2}); }

config::DistillSpec spec(const std::string& combiner, double task_weight, double kd_weight) {
  config::DistillSpec s;
  s.set_combiner(combiner);
  s.set_temperature(1.0);
  s.set_confidence_temperature(1.0);
  s.set_task_weight(task_weight);
  s.set_kd_weight(kd_weight);
  s.add_teachers()->set_weight(3.0);
  s.add_teachers()->set_weight(1.0);
  return s;
}

TEST(DistillationLoss, MeanCombinerTotalWithAnIgnoredRow) {
  // student rows all [0,0]; labels [0, 1, -100]: CE = ln 2, ln 2, (ignored) -> task = ln 2
  // teacher A: [ln3,0], [0,0], [5,-5];  KL_A = K1, 0, (ignored)
  // teacher B: [0,0], [0,ln3], [-5,5];  KL_B = 0, K1, (ignored)
  // mean: kd rows = K1/2, K1/2 -> kd = K1/2
  // total = 0.5 * ln 2 + 2 * K1/2 = 0.346574 + 0.130812 = 0.477386
  const double l3 = std::log(3.0);
  torch::Tensor student = torch::zeros({3, 2}).requires_grad_();
  const std::vector<torch::Tensor> teachers = {rows({l3, 0, 0, 0, 5, -5}), rows({0, 0, 0, l3, -5, 5})};
  const torch::Tensor labels = torch::tensor({0, 1, -100}, torch::kLong);
  const config::DistillSpec s = spec("mean", 0.5, 2.0);
  const auto combiner = makeCombiner(s);
  const LossBreakdown loss = distillationLoss(student, teachers, labels, s, combiner.get());

  EXPECT_NEAR(loss.task, std::log(2.0), 1e-6);
  EXPECT_NEAR(loss.kd, kK1 / 2, 1e-6);
  EXPECT_NEAR(loss.total.item<double>(), 0.5 * std::log(2.0) + kK1, 1e-6);
  EXPECT_NEAR(loss.total.item<double>(), 0.477386, 1e-6);
  ASSERT_EQ(loss.teacher_kl.size(), 2u);
  EXPECT_NEAR(loss.teacher_kl[0], kK1 / 2, 1e-6);
  EXPECT_NEAR(loss.teacher_kl[1], kK1 / 2, 1e-6);
  EXPECT_NEAR(loss.teacher_weight[0], 0.5, 1e-6);
  EXPECT_NEAR(loss.teacher_weight[1], 0.5, 1e-6);
  EXPECT_EQ(loss.rows, 2);

  loss.total.backward();
  EXPECT_TRUE(torch::equal(student.grad()[2], torch::zeros({2}))) << student.grad();
  EXPECT_GT(student.grad()[0].abs().sum().item<double>(), 0.0);
}

TEST(DistillationLoss, FixedWeightsCombiner) {
  // teacher A = [ln3,0] on both rows (KL = K1), teacher B = student (KL = 0); weights 3/4, 1/4
  // kd = 3/4 K1 = 0.098109; task = ln 2 (labels 0, 1); total = 1 * ln 2 + 1 * 3/4 K1 = 0.791256
  const double l3 = std::log(3.0);
  const std::vector<torch::Tensor> teachers = {rows({l3, 0, l3, 0}), rows({0, 0, 0, 0})};
  const config::DistillSpec s = spec("weights", 1.0, 1.0);
  const auto combiner = makeCombiner(s);
  const LossBreakdown loss =
      distillationLoss(torch::zeros({2, 2}), teachers, torch::tensor({0, 1}, torch::kLong), s, combiner.get());
  EXPECT_NEAR(loss.kd, 0.75 * kK1, 1e-6);
  EXPECT_NEAR(loss.total.item<double>(), std::log(2.0) + 0.75 * kK1, 1e-6);
  EXPECT_NEAR(loss.total.item<double>(), 0.791256, 1e-6);
  EXPECT_NEAR(loss.teacher_kl[0], kK1, 1e-6);
  EXPECT_NEAR(loss.teacher_kl[1], 0.0, 1e-6);
  EXPECT_NEAR(loss.teacher_weight[0], 0.75, 1e-6);
  EXPECT_NEAR(loss.teacher_weight[1], 0.25, 1e-6);
}

TEST(DistillationLoss, NoTeachersIsTheWeightedTaskLoss) {
  // logits [ln3, 0], label 1: CE = ln 4; total = 0.5 * ln 4 = ln 2
  const config::DistillSpec s = spec("mean", 0.5, 1.0);
  const LossBreakdown loss = distillationLoss(rows({std::log(3.0), 0}), {}, torch::tensor({1}, torch::kLong), s, nullptr);
  EXPECT_NEAR(loss.total.item<double>(), std::log(2.0), 1e-6);
  EXPECT_NEAR(loss.task, std::log(4.0), 1e-6);
  EXPECT_EQ(loss.kd, 0.0);
  EXPECT_TRUE(loss.teacher_kl.empty());
}

TEST(DistillationLoss, AllRowsIgnoredGivesZeroThatBackpropagates) {
  torch::Tensor student = torch::randn({2, 2}).requires_grad_();
  const config::DistillSpec s = spec("mean", 1.0, 1.0);
  const auto combiner = makeCombiner(s);
  const LossBreakdown loss = distillationLoss(student, {torch::randn({2, 2}), torch::randn({2, 2})},
                                              torch::tensor({-100, -100}, torch::kLong), s, combiner.get());
  EXPECT_EQ(loss.total.item<double>(), 0.0);
  EXPECT_EQ(loss.rows, 0);
  loss.total.backward();
  EXPECT_TRUE(torch::equal(student.grad(), torch::zeros({2, 2})));
}

TEST(DistillationLoss, UnlabelledDataCountsEveryRow) {
  // no labels: task = 0, kd = mean over both rows of K1 (teacher A only) = K1; total = 2 * K1
  const double l3 = std::log(3.0);
  torch::Tensor student = torch::zeros({2, 2}).requires_grad_();
  const config::DistillSpec s = spec("mean", 1.0, 2.0);
  const auto combiner = makeCombiner(s);
  const LossBreakdown loss = distillationLoss(student, {rows({l3, 0, l3, 0})}, torch::Tensor(), s, combiner.get());
  EXPECT_EQ(loss.task, 0.0);
  EXPECT_NEAR(loss.total.item<double>(), 2 * kK1, 1e-6);
  EXPECT_EQ(loss.rows, 2);
  // without teachers the total is still differentiable (zero gradient)
  const LossBreakdown none = distillationLoss(student, {}, torch::Tensor(), s, nullptr);
  EXPECT_TRUE(none.total.requires_grad());
}

TEST(DistillationLoss, TeachersNeedACombiner) {
  EXPECT_THROW(distillationLoss(torch::zeros({1, 2}), {torch::zeros({1, 2})}, torch::tensor({0}, torch::kLong),
                                spec("mean", 1, 1), nullptr),
               Error);
}

}  // namespace
}  // namespace distill::kd
