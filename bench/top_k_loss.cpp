// Benchmark (not a test): the step's distillation loss when the teachers come
// as their top-k (placement cache or pool), computed on the top-k directly
// (top_k_divergence.h, what the service does now) against expanding each
// teacher to dense [R, V] logits first (denseLogits, what it did before, and
// still does for combiners that read the teachers' logits). Same rows, same
// top-k, one run, one thread:
//
//   time          seconds of the expansion (dense only) + loss forward + backward
//   peak memory   the most CPU tensor bytes held at once beyond the inputs
//                 (CpuMemoryMeter), the dense teachers included
//   peak rate     this machine's bf16 matmul rate, for scale
//
// And the logit rows alone (logit_rows.h: the task term and every teacher's
// top-k divergence, weighted as the mean combiner weights them), by the fused
// row kernel (logit_row_kernel.h, what kAuto takes on a CPU with AVX2) against
// the tensor form, same inputs:
//
//   fused / tensor   time of the tensor form over the fused kernel's
//
// The heap keeps freed blocks for reuse, as in `distill` (common/heap_reuse.h).
//
//   build/distill_bench_top_k_loss --rows 2048 --vocab 32000 --top-k 64 --teachers 2 --divergence reverse_kl
#include <cstdio>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "bench/loss_measure.h"
#include "bench/peak_rate.h"

#include "common/heap_reuse.h"

#include "trainer/distill/distillation_loss.h"
#include "trainer/distill/logit_rows.h"
#include "trainer/distill/mean_combiner.h"
#include "trainer/teachers/top_k.h"

namespace {

using namespace distill;

// The loss from teachers given as their top-k: expanded to dense logits first, or on the top-k directly.
bench::LossMeasure measure(const torch::Tensor& logits, const std::vector<kd::TopKTeacher>& teachers,
                           const torch::Tensor& labels, const config::DistillSpec& spec, bool dense, int repeats) {
  kd::MeanCombiner mean;
  return bench::measureLoss(logits, repeats, [&](const torch::Tensor& student) {
    if (!dense) {
      return kd::distillationLoss(student, std::vector<torch::Tensor>(teachers.size()), labels, spec, &mean, nullptr, 0,
                                  teachers).total;
    }
    std::vector<torch::Tensor> expanded;
    for (const auto& t : teachers) expanded.push_back(teachers::denseLogits(t.rows, t.vocab));
    return kd::distillationLoss(student, expanded, labels, spec, &mean).total;
  });
}

// The logit rows of the same loss, task term and teachers weighted as the mean combiner does, by one kernel.
bench::LossMeasure measureRows(const torch::Tensor& logits, const std::vector<kd::TopKTeacher>& teachers,
                               const torch::Tensor& labels, const config::DistillSpec& spec,
                               kd::LogitRowsKernel kernel, int repeats) {
  std::vector<kd::LogitTerm> terms = {kd::LogitTerm::crossEntropy(labels)};
  for (const auto& t : teachers) terms.push_back(kd::LogitTerm::topK(t.rows, t.vocab));
  const double counted = (labels != -100).sum().item<double>(), rows = static_cast<double>(labels.size(0));
  torch::Tensor weights = torch::full({static_cast<int64_t>(terms.size()), 1},
                                      spec.kd_weight() / (static_cast<double>(teachers.size()) * rows));
  weights[0].fill_(spec.task_weight() / counted);
  return bench::measureLoss(logits, repeats, [&](const torch::Tensor& student) {
    return (kd::logitRows(student, terms, kd::divergenceOf(spec), spec.chunk_tokens(), kernel) * weights).sum();
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Distillation loss from teachers' top-k: on the top-k directly against dense logits"};
  int64_t rows = 2048, vocab = 32000, top_k = 64, chunk = 1024, teachers = 2;
  int repeats = 3;
  std::string divergence = "reverse_kl";
  app.add_option("--rows", rows, "tokens in the batch (B x T)")->capture_default_str();
  app.add_option("--vocab", vocab)->capture_default_str();
  app.add_option("--top-k", top_k)->capture_default_str();
  app.add_option("--chunk", chunk, "distill.chunk_tokens")->capture_default_str();
  app.add_option("--teachers", teachers)->capture_default_str();
  app.add_option("--divergence", divergence)->capture_default_str();
  app.add_option("--repeats", repeats)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  torch::set_num_threads(1);
  distill::keepFreedMemoryForReuse();  // as `distill` runs (docs/performance.md)

  torch::manual_seed(0);
  const torch::Tensor logits = torch::randn({rows, vocab});
  torch::Tensor labels = torch::randint(0, vocab, {rows});
  labels.slice(0, 0, rows / 8).fill_(-100);  // some padding
  std::vector<kd::TopKTeacher> top;
  for (int64_t k = 0; k < teachers; ++k) {
    teachers::TopK t = teachers::topK(torch::randn({rows, vocab}) * 3, top_k);
    t.log_probs = t.log_probs.to(torch::kHalf);  // as the cache stores them
    top.push_back({t, vocab});
  }

  config::DistillSpec spec;
  spec.set_temperature(2.0);
  spec.set_task_weight(0.5);
  spec.set_kd_weight(0.5);
  spec.set_divergence(divergence);
  spec.set_chunk_tokens(static_cast<uint32_t>(chunk));
  const bench::LossMeasure dense = measure(logits, top, labels, spec, /*dense=*/true, repeats);
  const bench::LossMeasure direct = measure(logits, top, labels, spec, /*dense=*/false, repeats);

  const double mb = 1024.0 * 1024.0;
  std::printf("distillation loss from top-%lld teachers: %lld tokens x %lld vocabulary, %lld teachers, %s, chunk %lld; "
              "1 thread\n",
              static_cast<long long>(top_k), static_cast<long long>(rows), static_cast<long long>(vocab),
              static_cast<long long>(teachers), divergence.c_str(), static_cast<long long>(chunk));
  std::printf("peak bf16 matmul rate of this machine: %.0f GFLOP/s\n", bench::bf16MatmulRate());
  std::printf("%-22s %10s %10s %14s\n", "path", "s/step", "peak MB", "loss");
  std::printf("%-22s %10.3f %10.1f %14.6f\n", "dense logits (before)", dense.seconds, dense.peak_bytes / mb, dense.value);
  std::printf("%-22s %10.3f %10.1f %14.6f\n", "top-k directly", direct.seconds, direct.peak_bytes / mb, direct.value);
  std::printf("top-k directly / dense: time %.2fx faster, peak memory %.2f of dense\n", dense.seconds / direct.seconds,
              static_cast<double>(direct.peak_bytes) / dense.peak_bytes);

  const bench::LossMeasure tensor = measureRows(logits, top, labels, spec, kd::LogitRowsKernel::kTensor, repeats);
  const bench::LossMeasure fused = measureRows(logits, top, labels, spec, kd::LogitRowsKernel::kAuto, repeats);
  std::printf("logit rows alone (%s):\n", kd::fusedLogitRows(logits) ? "the fused kernel runs on this CPU"
                                                                       : "no AVX2 here: both are the tensor form");
  std::printf("%-22s %10.3f %10.1f %14.6f\n", "tensor form", tensor.seconds, tensor.peak_bytes / mb, tensor.value);
  std::printf("%-22s %10.3f %10.1f %14.6f\n", "fused rows", fused.seconds, fused.peak_bytes / mb, fused.value);
  std::printf("fused / tensor: time %.2fx faster, peak memory %.2f of the tensor form's\n",
              tensor.seconds / fused.seconds, static_cast<double>(fused.peak_bytes) / tensor.peak_bytes);
  return 0;
}
