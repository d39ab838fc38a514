// Amalgamation combiner: teachers that cover a sample's label, weighted by
// confidence among themselves; a sample nobody covers gets weight 0.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/combiner.h"
#include "trainer/distill/distillation_loss.h"
#include "trainer/distill/teacher_class_map.h"

namespace distill::kd {
namespace {

const double kL3 = std::log(3.0);

// Student: 4 classes. Teacher 0 knows student classes [0, 2]; teacher 1 knows [2, 1]
// (its output 0 is student class 2). Class 3: nobody.
config::DistillSpec spec() {
  config::DistillSpec s;
  s.set_combiner("amalgamation");
  s.set_temperature(1.0);
  s.set_confidence_temperature(1.0);
  s.set_task_weight(0.0);
  s.set_kd_weight(1.0);
  auto* t0 = s.add_teachers();
  t0->add_classes(0);
  t0->add_classes(2);
  auto* t1 = s.add_teachers();
  t1->add_classes(2);
  t1->add_classes(1);
  return s;
}

TEST(AmalgamationCombiner, CoveringTeachersWeightedByConfidence) {
  // labels [0, 2, 1, 3, -100]
  //   y=0: only teacher 0 covers -> [1, 0];   y=1: only teacher 1 -> [0, 1];   y=3: nobody -> [0, 0]
  //   y=2 and unlabelled: both; teacher 0 [ln3,0] (H 0.562) vs teacher 1 [0,0] (H ln 2)
  //   -> q / (q + 1/2) = 0.532656 and 0.467344, as in the confidence combiner
  const torch::Tensor t0 = torch::tensor({0.0, 0.0, kL3, 0.0, 0.0, 0.0, 0.0, 0.0, kL3, 0.0}, torch::kFloat).reshape({5, 2});
  const torch::Tensor t1 = torch::zeros({5, 2});
  const config::DistillSpec s = spec();
  const std::vector<torch::Tensor> mapped = teachersInStudentClasses({t0, t1}, s, 4);
  CombinerExtras extras;
  extras.labels = torch::tensor({0, 2, 1, 3, -100}, torch::kLong);

  const auto combiner = makeCombiner(s);
  EXPECT_EQ(combiner->name(), "amalgamation");
  const torch::Tensor w = combiner->weightsWith(mapped, torch::zeros({5, 4}), extras);
  const double q = std::pow(0.75, 0.75) * std::pow(0.25, 0.25);
  const double sure = q / (q + 0.5);
  const torch::Tensor expected =
      torch::tensor({1.0, sure, 0.0, 0.0, sure, 0.0, 1 - sure, 1.0, 0.0, 1 - sure}, torch::kFloat).reshape({2, 5});
  EXPECT_TRUE(torch::allclose(w, expected, 1e-5, 1e-5)) << w;
  // Columns sum to 1, except the sample no teacher covers.
  EXPECT_TRUE(torch::allclose(w.sum(0), torch::tensor({1.0, 1.0, 1.0, 0.0, 1.0}, torch::kFloat)));

  // Without labels every teacher may teach every sample.
  const torch::Tensor unlabelled = combiner->weights(mapped, torch::zeros({5, 4}));
  EXPECT_TRUE(torch::allclose(unlabelled.sum(0), torch::ones({5})));
  EXPECT_NEAR(unlabelled[0][1].item<double>(), sure, 1e-5);
}

TEST(AmalgamationCombiner, DistillationLossMapsTeachersAndSkipsUncoveredSamples) {
  // Student 3 classes, logits 0 (q = 1/3 each). Teacher 0 covers [0, 1], teacher 1 covers [2].
  // Sample 0 (y=0): teacher 0 only, p = [3/4, 1/4, 0]: KL = 3/4 ln(9/4) + 1/4 ln(3/4) = 0.536277
  // Sample 1 (y=2): teacher 1 only, p = [0, 0, 1]: KL = ln 3 = 1.098612
  // Sample 2 (y=-100): not counted.
  // kd = (0.536277 + 1.098612) / 2 = 0.817445
  config::DistillSpec s;
  s.set_combiner("amalgamation");
  s.set_temperature(1.0);
  s.set_confidence_temperature(1.0);
  s.set_task_weight(0.0);
  s.set_kd_weight(1.0);
  s.add_teachers()->add_classes(0);
  s.mutable_teachers(0)->add_classes(1);
  s.add_teachers()->add_classes(2);
  const torch::Tensor t0 = torch::tensor({kL3, 0.0, 0.0, 0.0, 1.0, 1.0}, torch::kFloat).reshape({3, 2});
  const torch::Tensor t1 = torch::zeros({3, 1});
  torch::Tensor student = torch::zeros({3, 3}).requires_grad_();
  const torch::Tensor labels = torch::tensor({0, 2, -100}, torch::kLong);
  const auto combiner = makeCombiner(s);
  const LossBreakdown loss = distillationLoss(student, {t0, t1}, labels, s, combiner.get());
  const double k0 = 0.75 * std::log(2.25) + 0.25 * std::log(0.75);
  EXPECT_NEAR(k0, 0.536277, 1e-6);
  EXPECT_NEAR(loss.kd, (k0 + std::log(3.0)) / 2, 1e-5);
  EXPECT_NEAR(loss.total.item<double>(), 0.817445, 1e-5);
  ASSERT_TRUE(loss.weights.defined());
  EXPECT_TRUE(torch::allclose(loss.weights.index({torch::indexing::Slice(), torch::indexing::Slice(0, 2)}),
                              torch::tensor({1.0, 0.0, 0.0, 1.0}, torch::kFloat).reshape({2, 2})))
      << loss.weights;
  loss.total.backward();
  EXPECT_TRUE(torch::isfinite(student.grad()).all().item<bool>());
}

TEST(AmalgamationCombiner, UncoveredLabelGetsNoDistillation) {
  // Teacher covers only class 0; a sample labelled 1 gets weight 0 and KD 0.
  config::DistillSpec s;
  s.set_combiner("amalgamation");
  s.set_temperature(1.0);
  s.set_confidence_temperature(1.0);
  s.set_task_weight(0.0);
  s.set_kd_weight(1.0);
  s.add_teachers()->add_classes(0);
  torch::Tensor student = torch::zeros({1, 2}).requires_grad_();
  const auto combiner = makeCombiner(s);
  const LossBreakdown loss = distillationLoss(student, {torch::zeros({1, 1})}, torch::tensor({1}, torch::kLong), s,
                                              combiner.get());
  EXPECT_EQ(loss.kd, 0.0);
  EXPECT_EQ(loss.teacher_weight[0], 0.0);
  loss.total.backward();
  EXPECT_TRUE(torch::equal(student.grad(), torch::zeros({1, 2})));
}

}  // namespace
}  // namespace distill::kd
