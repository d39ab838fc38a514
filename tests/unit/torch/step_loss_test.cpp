// One step's loss as the worker assembles it: teacher passes, the logit part,
// the intermediate terms under the same per-sample weights, the student's
// per-sample entropy for data selection, and the scheduled values.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "trainer/distill/combiner.h"
#include "trainer/model/builtin.h"
#include "trainer/step_loss.h"

namespace distill::kd {
namespace {

TEST(StepLoss, SampleEntropyByHand) {
  // Uniform over 4 classes: log 4. One-hot (large logit gap): about 0.
  const torch::Tensor logits = torch::tensor({0.0, 0.0, 0.0, 0.0, 50.0, 0.0, 0.0, 0.0}).reshape({2, 4});
  const torch::Tensor h = sampleEntropy(logits, torch::tensor({0, 1}, torch::kLong));
  EXPECT_NEAR(h[0].item<double>(), std::log(4.0), 1e-6);
  EXPECT_NEAR(h[1].item<double>(), 0.0, 1e-6);
}

TEST(StepLoss, SampleEntropyOfTokensAveragesCountedTokens) {
  // Sample 0: tokens uniform over 2 (log 2) and peaked (0); sample 1: its
  // only counted token is uniform; its second is ignored (-100).
  const torch::Tensor logits =
      torch::tensor({0.0, 0.0, 60.0, 0.0, 0.0, 0.0, 60.0, 0.0}).reshape({2, 2, 2});
  const torch::Tensor labels = torch::tensor({0, 1, 1, -100}, torch::kLong).reshape({2, 2});
  const torch::Tensor h = sampleEntropy(logits, labels);
  EXPECT_NEAR(h[0].item<double>(), std::log(2.0) / 2, 1e-6);
  EXPECT_NEAR(h[1].item<double>(), std::log(2.0), 1e-6);
}

TEST(StepLoss, SchedulesMoveTemperatureAndKdWeight) {
  config::DistillSpec spec;
  spec.set_temperature(4.0);
  spec.set_kd_weight(1.0);
  spec.mutable_temperature_schedule()->set_shape("linear");
  spec.mutable_temperature_schedule()->set_end(1.0);
  spec.mutable_kd_weight_schedule()->set_shape("constant");
  EXPECT_DOUBLE_EQ(specAtStep(spec, 0, 11).temperature(), 4.0);
  EXPECT_DOUBLE_EQ(specAtStep(spec, 5, 11).temperature(), 2.5);
  EXPECT_DOUBLE_EQ(specAtStep(spec, 10, 11).temperature(), 1.0);
  EXPECT_DOUBLE_EQ(specAtStep(spec, 10, 11).kd_weight(), 1.0);
}

// Two built-in encoders as teachers, one as the student (widths 16 and 8).
struct Models {
  // TransformerSize: vocab, max_len, d_model, layers, heads, d_ff, dropout
  torch::jit::Module student = model::buildEncoderClassifier({64, 16, 8, 1, 2, 16, 0.0}, 3, 1);
  std::vector<torch::jit::Module> teachers = {model::buildEncoderClassifier({64, 16, 16, 2, 2, 32, 0.3}, 3, 2),
                                              model::buildEncoderClassifier({64, 16, 16, 2, 2, 32, 0.3}, 3, 3)};
  data::Batch batch{torch::randint(2, 60, {4, 10}, torch::kLong), torch::ones({4, 10}, torch::kLong),
                    torch::tensor({0, 1, 2, 1}, torch::kLong)};
  Models() {
    for (auto& t : teachers) t.eval();  // as the worker sets them up
  }
};

TEST(StepLoss, StochasticPassesOnlyWhenAsked) {
  torch::manual_seed(0);
  Models m;
  config::DistillSpec spec;
  spec.add_teachers()->set_name("a");
  spec.add_teachers()->set_name("b");
  const TeacherOutputs one = runTeachers(m.teachers, m.batch, spec, 1);
  EXPECT_TRUE(one.passes.empty());
  EXPECT_TRUE(one.layers.empty());  // no terms: the layers are not kept
  const TeacherOutputs four = runTeachers(m.teachers, m.batch, spec, 4);
  ASSERT_EQ(four.passes.size(), 2u);
  EXPECT_EQ(four.passes[0].sizes(), (std::vector<int64_t>{4, 4, 3}));
  // Dropout 0.3 is on in the passes, off in the logits; the teachers end in eval mode.
  EXPECT_FALSE(torch::allclose(four.passes[0][0], four.passes[0][1]));
  EXPECT_TRUE(torch::allclose(one.logits[0], four.logits[0]));
  EXPECT_FALSE(m.teachers[0].is_training());
}

TEST(StepLoss, TotalIsLogitPartPlusTermsAndProjectionsGetGradients) {
  torch::manual_seed(0);
  Models m;
  config::DistillSpec spec;
  spec.add_teachers()->set_name("a");
  spec.add_teachers()->set_name("b");
  spec.set_temperature(2.0);
  spec.set_task_weight(0.5);
  spec.set_kd_weight(0.5);
  spec.set_combiner("mean");
  auto* term = spec.add_terms();
  term->set_kind("hidden_mse");
  term->set_name("hidden");
  term->set_weight(1.0);
  term->set_layers("last");
  const auto combiner = makeCombiner(spec);
  const TeacherOutputs t = runTeachers(m.teachers, m.batch, spec, 1);
  ASSERT_EQ(t.layers.size(), 2u);
  const auto s = model::runModel(m.student, m.batch.input_ids, m.batch.attention_mask, "student");
  const Projections projections =
      createProjections(spec, shapeOf({s.hidden_states, s.attentions}, "student"),
                        {shapeOf(t.layers[0], "a"), shapeOf(t.layers[1], "b")}, 7);
  ASSERT_EQ(projections.size(), 2u);  // one per teacher: 8 -> 16
  const StepLoss loss = stepLoss(s, m.batch, t, spec, combiner.get(), projections);
  ASSERT_EQ(loss.terms.terms.size(), 1u);
  EXPECT_NEAR(loss.total.item<double>(), loss.logits.total.item<double>() + loss.terms.total.item<double>(), 1e-5);
  EXPECT_GT(loss.terms.terms[0].value, 0.0);
  EXPECT_EQ(sampleEntropy(s.logits, m.batch.labels).sizes(), (std::vector<int64_t>{4}));
  loss.total.backward();
  for (const auto& [name, w] : projections) {
    ASSERT_TRUE(w.grad().defined()) << name;
    EXPECT_GT(w.grad().abs().sum().item<double>(), 0.0) << name;
  }
}

}  // namespace
}  // namespace distill::kd
