// Benchmark (not a test): the token-level distillation loss over a language
// model's [R, V] logits, chunked (distill.chunk_tokens) against the unchunked
// path, and both against autograd through the reference functions (the
// service's path before logit_rows.h's closed-form gradients), measured in
// one run on one thread:
//
//   peak memory   the most CPU tensor bytes the loss holds at once, forward and
//                 backward, beyond its inputs (CpuMemoryMeter). Beyond the
//                 gradient of the logits (which any loss returns), the chunked
//                 path over R rows is compared with the unchunked path over
//                 one chunk's rows: the target is within 2x, i.e. memory that
//                 does not grow with the batch
//   time          seconds per forward + backward, chunked / unchunked, and
//                 each against autograd
//   peak rate     this machine's bf16 matmul rate, for scale
//
// The heap keeps freed blocks for reuse, as in `distill` (common/heap_reuse.h):
// with glibc's defaults every [R, V] temporary is a fresh mmap faulted in page
// by page, and the times measure the kernel.
//
//   build/distill_bench_token_loss --rows 2048 --vocab 32000 --chunk 256 --teachers 2 --divergence jsd
#include <algorithm>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "bench/loss_measure.h"
#include "bench/peak_rate.h"
#include "common/heap_reuse.h"

#include "trainer/distill/distillation_loss.h"
#include "trainer/distill/divergence.h"
#include "trainer/distill/mean_combiner.h"
#include "trainer/distill/task_loss.h"

namespace {

using namespace distill;

bench::LossMeasure measure(const torch::Tensor& logits, const std::vector<torch::Tensor>& teachers,
                           const torch::Tensor& labels, const config::DistillSpec& spec, int repeats) {
  kd::MeanCombiner mean;
  return bench::measureLoss(logits, repeats, [&](const torch::Tensor& student) {
    return kd::distillationLoss(student, teachers, labels, spec, &mean).total;
  });
}

// The same loss (mean combiner) by autograd through crossEntropyPerSample and
// divergenceRows, every row at once: the baseline.
bench::LossMeasure measureAutograd(const torch::Tensor& logits, const std::vector<torch::Tensor>& teachers,
                                   const torch::Tensor& labels, const config::DistillSpec& spec, int repeats) {
  const kd::Divergence d = kd::divergenceOf(spec);
  return bench::measureLoss(logits, repeats, [&](const torch::Tensor& student) {
    const torch::Tensor counted = (labels != kd::kIgnoreLabel).to(torch::kFloat);
    const torch::Tensor n = counted.sum();
    torch::Tensor kd = torch::zeros({});
    for (const auto& t : teachers) kd = kd + (kd::divergenceRows(student, t, d) * counted).sum() / n;
    const torch::Tensor task = (kd::crossEntropyPerSample(student, labels) * counted).sum() / n;
    return spec.task_weight() * task + spec.kd_weight() * kd / static_cast<double>(teachers.size());
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chunked token-level distillation loss: peak memory and time against the unchunked path"};
  int64_t rows = 2048, vocab = 32000, chunk = 256, teachers = 2;
  int repeats = 3;
  std::string divergence = "jsd";
  app.add_option("--rows", rows, "tokens in the batch (B x T)")->capture_default_str();
  app.add_option("--vocab", vocab)->capture_default_str();
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
  std::vector<torch::Tensor> teacher_logits;
  for (int64_t k = 0; k < teachers; ++k) teacher_logits.push_back(torch::randn({rows, vocab}));

  config::DistillSpec spec;
  spec.set_temperature(2.0);
  spec.set_task_weight(0.5);
  spec.set_kd_weight(0.5);
  spec.set_divergence(divergence);
  spec.set_beta(0.5);
  spec.set_alpha(0.1);
  spec.set_chunk_tokens(0);
  const bench::LossMeasure autograd = measureAutograd(logits, teacher_logits, labels, spec, repeats);
  const bench::LossMeasure whole = measure(logits, teacher_logits, labels, spec, repeats);
  spec.set_chunk_tokens(static_cast<uint32_t>(chunk));
  const bench::LossMeasure chunked = measure(logits, teacher_logits, labels, spec, repeats);
  spec.set_chunk_tokens(0);
  std::vector<torch::Tensor> chunk_teachers;
  for (const auto& t : teacher_logits) chunk_teachers.push_back(t.slice(0, 0, chunk));
  const bench::LossMeasure one_chunk = measure(logits.slice(0, 0, chunk), chunk_teachers, labels.slice(0, 0, chunk), spec, repeats);

  const double mb = 1024.0 * 1024.0;
  const double logits_bytes = 4.0 * rows * vocab, chunk_bytes = 4.0 * chunk * vocab;
  std::printf("token loss: %lld tokens x %lld vocabulary, %lld teachers, %s, chunk %lld; 1 thread\n",
              static_cast<long long>(rows), static_cast<long long>(vocab), static_cast<long long>(teachers),
              divergence.c_str(), static_cast<long long>(chunk));
  std::printf("peak bf16 matmul rate of this machine: %.0f GFLOP/s\n", bench::bf16MatmulRate());
  std::printf("one chunk's fp32 logits %.1f MB; the logits' gradient %.1f MB\n", chunk_bytes / mb, logits_bytes / mb);
  std::printf("%-10s %12s %22s %22s %10s\n", "path", "peak MB", "peak / chunk logits", "(peak - grad) / chunk", "s/step");
  for (const auto& [name, m] :
       {std::pair{"autograd", autograd}, std::pair{"unchunked", whole}, std::pair{"chunked", chunked}}) {
    std::printf("%-10s %12.1f %22.1f %22.1f %10.3f\n", name, m.peak_bytes / mb, m.peak_bytes / chunk_bytes,
                (m.peak_bytes - logits_bytes) / chunk_bytes, m.seconds);
  }
  std::printf("unchunked loss over one chunk's rows: peak %.1f MB, %.1f MB beyond its gradient\n",
              one_chunk.peak_bytes / mb, (one_chunk.peak_bytes - chunk_bytes) / mb);
  std::printf("loss values: autograd %.6f, unchunked %.6f, chunked %.6f\n", autograd.value, whole.value,
              chunked.value);
  std::printf("unchunked / autograd: peak memory %.3f, time %.2f\n",
              static_cast<double>(whole.peak_bytes) / autograd.peak_bytes, whole.seconds / autograd.seconds);
  std::printf("chunked / autograd: peak memory %.3f, time %.2f\n",
              static_cast<double>(chunked.peak_bytes) / autograd.peak_bytes, chunked.seconds / autograd.seconds);
  std::printf("chunked / unchunked: peak memory %.3f, time %.2f\n",
              static_cast<double>(chunked.peak_bytes) / whole.peak_bytes, chunked.seconds / whole.seconds);
  // The fused row kernel holds next to nothing beyond the gradient, chunked or not: the bound is then
  // one chunk's logits, so the ratio does not divide by (almost) zero.
  const double beyond = chunked.peak_bytes - logits_bytes;
  const double bound = std::max(one_chunk.peak_bytes - chunk_bytes, chunk_bytes);
  std::printf("chunked beyond its gradient %.1f MB / max(one chunk unchunked beyond its gradient, one chunk's "
              "logits) %.1f MB: %.2f (target <= 2)\n",
              beyond / mb, bound / mb, beyond / bound);
  return 0;
}
