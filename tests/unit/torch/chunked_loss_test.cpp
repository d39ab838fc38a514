// Token-level losses over chunks of rows give the unchunked values and
// gradients, for every divergence and with ignored tokens; and the global
// denominator makes two "workers" with uneven padding average to the
// gradient of one worker holding all the rows.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "trainer/distill/combiner.h"
#include "trainer/distill/distillation_loss.h"
#include "trainer/distill/divergence.h"
#include "trainer/distill/logit_rows.h"
#include "trainer/distill/mean_combiner.h"
#include "trainer/distill/task_loss.h"
#include "trainer/profiling/cpu_memory_meter.h"

namespace distill::kd {
namespace {

struct Lm {
  torch::Tensor student, labels;
  std::vector<torch::Tensor> teachers;
};

// 3 sequences x 13 tokens over 50 "words", the last tokens of two sequences padded (-100).
Lm tinyLm() {
  torch::manual_seed(11);
  Lm lm{torch::randn({39, 50}), torch::randint(0, 50, {39}), {torch::randn({39, 50}), torch::randn({39, 50})}};
  lm.labels.slice(0, 9, 13).fill_(kIgnoreLabel);
  lm.labels.slice(0, 20, 26).fill_(kIgnoreLabel);
  return lm;
}

config::DistillSpec spec(const std::string& divergence, uint32_t chunk) {
  config::DistillSpec s;
  s.set_temperature(2.0);
  s.set_task_weight(0.3);
  s.set_kd_weight(0.7);
  s.set_divergence(divergence);
  s.set_beta(0.4);
  s.set_alpha(0.2);
  s.set_chunk_tokens(chunk);
  return s;
}

std::pair<double, torch::Tensor> lossAndGradient(const Lm& lm, const config::DistillSpec& s,
                                                 int64_t begin, int64_t end, double denominator = 0) {
  MeanCombiner mean;
  torch::Tensor student = lm.student.slice(0, begin, end).clone().requires_grad_();
  std::vector<torch::Tensor> teachers;
  for (const auto& t : lm.teachers) teachers.push_back(t.slice(0, begin, end));
  const LossBreakdown loss =
      distillationLoss(student, teachers, lm.labels.slice(0, begin, end), s, &mean, nullptr, denominator);
  loss.total.backward();
  return {loss.total.item<double>(), student.grad()};
}

TEST(ChunkedLoss, ChunksGiveTheUnchunkedLossAndGradientForEveryDivergence) {
  const Lm lm = tinyLm();
  for (const auto& name : divergenceNames()) {
    const auto [whole, whole_grad] = lossAndGradient(lm, spec(name, 0), 0, 39);
    for (uint32_t chunk : {1u, 5u, 16u}) {
      const auto [chunked, chunked_grad] = lossAndGradient(lm, spec(name, chunk), 0, 39);
      EXPECT_NEAR(chunked, whole, 1e-5) << name << " chunk " << chunk;
      EXPECT_TRUE(torch::allclose(chunked_grad, whole_grad, 1e-5, 1e-7)) << name << " chunk " << chunk;
    }
  }
}

TEST(ChunkedLoss, IgnoredTokensGetNoGradient) {
  const Lm lm = tinyLm();
  const auto [loss, grad] = lossAndGradient(lm, spec("reverse_kl", 4), 0, 39);
  EXPECT_EQ(grad.slice(0, 9, 13).abs().max().item<double>(), 0.0);
  EXPECT_GT(grad.slice(0, 0, 9).abs().max().item<double>(), 0.0);
}

TEST(ChunkedLoss, GlobalDenominatorMakesUnevenWorkersAverageToOneWorker) {
  const Lm lm = tinyLm();
  const config::DistillSpec s = spec("jsd", 4);
  const auto [one, one_grad] = lossAndGradient(lm, s, 0, 39);
  // Two workers: rows [0, 13) (4 ignored) and [13, 39) (6 ignored); the gradient average is sum / 2.
  const double labelled = (lm.labels != kIgnoreLabel).sum().item<double>();
  const auto [a, a_grad] = lossAndGradient(lm, s, 0, 13, labelled / 2);
  const auto [b, b_grad] = lossAndGradient(lm, s, 13, 39, labelled / 2);
  EXPECT_NEAR((a + b) / 2, one, 1e-5);
  EXPECT_TRUE(torch::allclose(torch::cat({a_grad, b_grad}) / 2, one_grad, 1e-5, 1e-8));
  // Each worker's own mean would not: its rows weigh more where it has fewer labelled tokens.
  const auto [a_local, a_local_grad] = lossAndGradient(lm, s, 0, 13);
  const auto [b_local, b_local_grad] = lossAndGradient(lm, s, 13, 39);
  EXPECT_FALSE(torch::allclose(torch::cat({a_local_grad, b_local_grad}) / 2, one_grad, 1e-5, 1e-8));
}

// The memory a loss holds at once beyond its inputs, forward and backward.
int64_t lossPeakBytes(const torch::Tensor& logits, const std::vector<torch::Tensor>& teachers,
                      const torch::Tensor& labels, const config::DistillSpec& s) {
  MeanCombiner mean;
  torch::Tensor student = logits.clone().requires_grad_();
  trainer::CpuMemoryMeter meter;
  const int64_t before = meter.current();
  distillationLoss(student, teachers, labels, s, &mean).total.backward();
  return meter.peak() - before;
}

// The tensor form of logit_rows.h: the CE and one teacher's JSD, gradient included.
int64_t tensorFormPeakBytes(const torch::Tensor& logits, const torch::Tensor& teacher, const torch::Tensor& labels,
                            int64_t chunk) {
  Divergence d;
  d.name = "jsd";
  torch::Tensor student = logits.clone().requires_grad_();
  trainer::CpuMemoryMeter meter;
  const int64_t before = meter.current();
  logitRows(student, {LogitTerm::crossEntropy(labels), LogitTerm::dense(teacher)}, d, chunk, LogitRowsKernel::kTensor)
      .sum()
      .backward();
  return meter.peak() - before;
}

TEST(ChunkedLoss, PeakMemoryIsTheGradientPlusAFewChunks) {
  torch::manual_seed(5);
  const int64_t rows = 1024, vocab = 2048, chunk = 64;
  const torch::Tensor student = torch::randn({rows, vocab}), labels = torch::randint(0, vocab, {rows});
  const std::vector<torch::Tensor> teachers = {torch::randn({rows, vocab})};
  const int64_t logits_bytes = rows * vocab * 4, chunk_bytes = chunk * vocab * 4;
  // The tensor form: unchunked, several [R, V] float32 temporaries live at once;
  // chunked, the gradient of the logits (which any loss returns) and O(chunk x V) more.
  EXPECT_GT(tensorFormPeakBytes(student, teachers[0], labels, 0), 3 * logits_bytes);
  EXPECT_LT(tensorFormPeakBytes(student, teachers[0], labels, chunk), logits_bytes + 16 * chunk_bytes);
  // The step's loss as `distill` computes it (the fused kernel where the CPU has AVX2: float32
  // logits are read in place, so chunked or not it holds little beyond the gradient).
  const int64_t chunked = lossPeakBytes(student, teachers, labels, spec("jsd", chunk));
  EXPECT_LT(chunked, logits_bytes + 16 * chunk_bytes) << "chunk bytes " << chunk_bytes;
  if (fusedLogitRows(student)) {
    EXPECT_LT(lossPeakBytes(student, teachers, labels, spec("jsd", 0)), logits_bytes + 16 * chunk_bytes);
  }
}

}  // namespace
}  // namespace distill::kd
