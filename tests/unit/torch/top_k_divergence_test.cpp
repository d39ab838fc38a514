// Divergences against a teacher given as its top-k (trainer/distill/
// top_k_divergence.h): the same values and student gradients as the dense
// logits denseLogits makes, for every divergence, temperature and k, through
// the chunked loss and the step's loss; and where the dense path must be taken.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "tests/unit/expect_error.h"
#include "trainer/distill/combiner.h"
#include "trainer/distill/distillation_loss.h"
#include "trainer/distill/top_k_divergence.h"
#include "trainer/step_loss.h"
#include "trainer/teachers/top_k.h"

namespace distill::kd {
namespace {

using teachers::TopK;

constexpr int64_t kVocab = 50;

std::vector<Divergence> everyDivergence(double temperature) {
  std::vector<Divergence> out;
  for (const auto& name : divergenceNames()) {
    Divergence d;
    d.name = name;
    d.temperature = temperature;
    d.beta = 0.3;
    d.alpha = 0.2;
    out.push_back(d);
  }
  for (double beta : {0.0, 1.0}) {  // the JSD's limits take other code paths
    Divergence d;
    d.name = "jsd";
    d.temperature = temperature;
    d.beta = beta;
    out.push_back(d);
  }
  return out;
}

// The divergence and the student's gradient, for dense teacher logits or the top-k.
std::pair<torch::Tensor, torch::Tensor> valueAndGrad(const torch::Tensor& student, const TopK& top, const Divergence& d,
                                                     bool dense) {
  const torch::Tensor s = student.clone().requires_grad_(true);
  const torch::Tensor rows = dense ? divergenceRows(s, teachers::denseLogits(top, kVocab), d)
                                   : topKDivergenceRows(s, top, kVocab, d);
  (rows * torch::arange(1, rows.size(0) + 1, torch::kFloat)).sum().backward();  // a different weight per row
  return {rows.detach(), s.grad()};
}

TEST(TopKDivergence, EqualsTheDenseTeacherForEveryDivergenceTemperatureAndK) {
  torch::manual_seed(3);
  const torch::Tensor teacher = torch::randn({7, kVocab}) * 3, student = torch::randn({7, kVocab}) * 2;
  for (int64_t k : {int64_t{1}, int64_t{5}, kVocab - 1, kVocab}) {
    const TopK top = teachers::topK(teacher, k);
    for (double temperature : {1.0, 2.5}) {
      for (const Divergence& d : everyDivergence(temperature)) {
        const std::string what = d.name + " beta " + std::to_string(d.beta) + " T " + std::to_string(temperature) +
                                 " k " + std::to_string(k);
        const auto [dense, dense_grad] = valueAndGrad(student, top, d, /*dense=*/true);
        const auto [sparse, sparse_grad] = valueAndGrad(student, top, d, /*dense=*/false);
        EXPECT_TRUE(torch::allclose(sparse, dense, 1e-4, 1e-5)) << what << "\n" << sparse << dense;
        EXPECT_TRUE(torch::allclose(sparse_grad, dense_grad, 1e-4, 1e-5)) << what;
        EXPECT_GT(dense.abs().sum().item<double>(), 1e-3) << what;  // not equal by being 0
      }
    }
  }
}

TEST(TopKDivergence, ACacheInFloat16AndSmallResidualsStayFinite) {
  torch::manual_seed(4);
  // A confident teacher: the mass outside its top 8 is about e^-40, clamped to the smallest float.
  const torch::Tensor teacher = torch::randn({4, kVocab});
  teacher.select(1, 0).add_(60);
  TopK top = teachers::topK(teacher, 8);
  top.log_probs = top.log_probs.to(torch::kHalf);
  const torch::Tensor student = torch::randn({4, kVocab});
  for (const Divergence& d : everyDivergence(1.0)) {
    const auto [dense, dense_grad] = valueAndGrad(student, top, d, true);
    const auto [sparse, sparse_grad] = valueAndGrad(student, top, d, false);
    EXPECT_TRUE(torch::isfinite(sparse).all().item<bool>()) << d.name;
    EXPECT_TRUE(torch::allclose(sparse, dense, 1e-4, 1e-4)) << d.name << "\n" << sparse << dense;
    EXPECT_TRUE(torch::allclose(sparse_grad, dense_grad, 1e-4, 1e-5)) << d.name;
  }
}

TEST(TopKDivergence, NoMassOutsideTheTopKCountsAsTheSmallestFloat) {
  torch::manual_seed(7);
  TopK top = teachers::topK(torch::randn({3, kVocab}), 6);
  top.residual.fill_(-std::numeric_limits<float>::infinity());  // not what topK writes for k < V, but a file may
  TopK clamped = top;
  clamped.residual = torch::full({3}, std::log(std::numeric_limits<float>::min()));
  const torch::Tensor student = torch::randn({3, kVocab});
  for (const Divergence& d : everyDivergence(1.5)) {
    const auto [got, got_grad] = valueAndGrad(student, top, d, false);
    const auto [want, want_grad] = valueAndGrad(student, clamped, d, true);
    EXPECT_TRUE(torch::isfinite(got).all().item<bool>()) << d.name << " " << got;
    EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-4)) << d.name << "\n" << got << want;
    EXPECT_TRUE(torch::isfinite(got_grad).all().item<bool>()) << d.name;
  }
}

TEST(TopKDivergence, MismatchedShapesNameBothSides) {
  const TopK top = teachers::topK(torch::randn({3, kVocab}), 4);
  Divergence d;
  testing::expectError([&] { topKDivergenceRows(torch::zeros({3, kVocab + 1}), top, kVocab, d); },
              {"[3, 51]", "teacher's vocabulary"});
  testing::expectError([&] { topKDivergenceRows(torch::zeros({2, kVocab}), top, kVocab, d); }, {"[2, k]", "log_probs [3, 4]"});
}

// A language-model batch as the loss sees it: 2 x 6 tokens, some unlabelled.
struct TokenRows {
  torch::Tensor student = torch::randn({12, kVocab});
  torch::Tensor labels = torch::randint(kVocab, {12}, torch::kLong);
  std::vector<TopK> teachers = {teachers::topK(torch::randn({12, kVocab}) * 2, 6),
                                teachers::topK(torch::randn({12, kVocab}) * 2, 9)};
  TokenRows() { labels.slice(0, 9, 12).fill_(-100); }
};

config::DistillSpec twoTeachers(const std::string& combiner, int64_t chunk_tokens) {
  config::DistillSpec spec;
  spec.add_teachers()->set_name("a");
  spec.add_teachers()->set_name("b");
  spec.set_temperature(2.0);
  spec.set_task_weight(0.5);
  spec.set_kd_weight(1.0);
  spec.set_divergence("reverse_kl");
  spec.set_combiner(combiner);
  spec.set_chunk_tokens(chunk_tokens);
  spec.set_confidence_temperature(1.0);
  return spec;
}

TEST(TopKDivergence, TheChunkedLossMatchesDenseTeachers) {
  torch::manual_seed(5);
  const TokenRows b;
  for (int64_t chunk : {0, 5}) {
    const config::DistillSpec spec = twoTeachers("mean", chunk);
    const auto combiner = makeCombiner(spec);
    std::vector<torch::Tensor> dense;
    std::vector<TopKTeacher> top_k;
    for (const TopK& t : b.teachers) {
      dense.push_back(teachers::denseLogits(t, kVocab));
      top_k.push_back({t, kVocab});
    }
    const torch::Tensor s1 = b.student.clone().requires_grad_(true), s2 = b.student.clone().requires_grad_(true);
    const LossBreakdown want = distillationLoss(s1, dense, b.labels, spec, combiner.get());
    const LossBreakdown got =
        distillationLoss(s2, std::vector<torch::Tensor>(2), b.labels, spec, combiner.get(), nullptr, 0, top_k);
    EXPECT_NEAR(got.total.item<double>(), want.total.item<double>(), 1e-4) << "chunk " << chunk;
    EXPECT_NEAR(got.teacher_kl[1], want.teacher_kl[1], 1e-4) << "chunk " << chunk;
    want.total.backward();
    got.total.backward();
    EXPECT_TRUE(torch::allclose(s2.grad(), s1.grad(), 1e-4, 1e-6)) << "chunk " << chunk;
  }
}

TEST(TopKDivergence, DenseLogitsOnlyForCombinersThatReadThemAndTeachersWithClassLists) {
  config::DistillSpec spec = twoTeachers("mean", 0);
  EXPECT_FALSE(needsDenseLogits(spec, makeCombiner(spec).get(), 0));
  EXPECT_FALSE(needsDenseLogits(spec, makeCombiner(spec).get(), 1));
  spec.mutable_teachers(1)->add_classes(0);  // teacher 1 maps its classes into the student's: logits
  EXPECT_FALSE(needsDenseLogits(spec, makeCombiner(spec).get(), 0));
  EXPECT_TRUE(needsDenseLogits(spec, makeCombiner(spec).get(), 1));
  spec.mutable_teachers(1)->clear_classes();
  spec.set_combiner("weights");
  spec.mutable_teachers(0)->set_weight(1.0);
  spec.mutable_teachers(1)->set_weight(2.0);
  EXPECT_FALSE(needsDenseLogits(spec, makeCombiner(spec).get(), 0));
  spec.set_combiner("confidence");
  EXPECT_TRUE(needsDenseLogits(spec, makeCombiner(spec).get(), 0));
  EXPECT_TRUE(needsDenseLogits(spec, nullptr, 0));
}

TEST(TopKDivergence, StepLossMatchesDenseTeachersOnEitherPath) {
  torch::manual_seed(6);
  const TokenRows b;
  model::ModelOutputs student;
  student.logits = b.student.reshape({2, 6, kVocab});
  data::Batch batch;
  batch.input_ids = torch::zeros({2, 6}, torch::kLong);
  batch.labels = b.labels.reshape({2, 6});
  TeacherOutputs as_top_k, as_dense;
  for (const TopK& t : b.teachers) {
    as_top_k.top_k.push_back({t, kVocab});
    as_dense.logits.push_back(teachers::denseLogits(t, kVocab));
  }
  EXPECT_EQ(teacherCount(as_top_k), 2u);
  for (const std::string name : {"mean", "confidence"}) {  // the top-k path, then the expanded one
    const config::DistillSpec spec = twoTeachers(name, 4);
    const auto combiner = makeCombiner(spec);
    const StepLoss got = stepLoss(student, batch, as_top_k, spec, combiner.get(), {});
    const StepLoss want = stepLoss(student, batch, as_dense, spec, combiner.get(), {});
    EXPECT_NEAR(got.total.item<double>(), want.total.item<double>(), 1e-4) << name;
    EXPECT_NEAR(got.logits.teacher_weight[0], want.logits.teacher_weight[0], 1e-6) << name;
  }
  // Asked directly, the loss refuses a top-k teacher for a combiner that reads logits.
  const config::DistillSpec spec = twoTeachers("confidence", 4);
  const auto combiner = makeCombiner(spec);
  testing::expectError([&] {
    distillationLoss(b.student, std::vector<torch::Tensor>(2), b.labels, spec, combiner.get(), nullptr, 0,
                     as_top_k.top_k);
  }, {"combiner 'confidence'", "top-k"});
}

}  // namespace
}  // namespace distill::kd
