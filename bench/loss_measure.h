// Seconds and peak CPU tensor memory of a loss's forward and backward, for
// the loss benchmarks: one warm-up, then the mean time over `repeats` and the
// largest peak beyond what was held before (trainer/profiling/cpu_memory_meter.h).
//
//   bench::LossMeasure m = bench::measureLoss(logits, 3, [&](const torch::Tensor& student) {
//     return kd::distillationLoss(student, teachers, labels, spec, &mean).total;  // scalar
//   });
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>

#include <torch/torch.h>

#include "trainer/profiling/cpu_memory_meter.h"

namespace distill::bench {

struct LossMeasure {
  double seconds = 0;      // forward + backward, mean over the repeats
  int64_t peak_bytes = 0;  // beyond what was held before, largest over the repeats
  double value = 0;        // the loss, from the last repeat
};

// `loss` gets a fresh copy of `logits` that requires grad and returns a scalar.
inline LossMeasure measureLoss(const torch::Tensor& logits, int repeats,
                               const std::function<torch::Tensor(const torch::Tensor&)>& loss) {
  LossMeasure m;
  for (int i = 0; i <= repeats; ++i) {  // i = 0: warm-up
    const torch::Tensor student = logits.clone().requires_grad_();
    trainer::CpuMemoryMeter meter;
    const int64_t before = meter.current();
    const auto start = std::chrono::steady_clock::now();
    const torch::Tensor total = loss(student);
    total.backward();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (i == 0) continue;
    m.seconds += seconds / repeats;
    m.peak_bytes = std::max(m.peak_bytes, meter.peak() - before);
    m.value = total.item<double>();
  }
  return m;
}

}  // namespace distill::bench
