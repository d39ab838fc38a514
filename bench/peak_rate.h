// This machine's bf16 matmul rate on one 2048^3 product, in GFLOP/s: the
// peak a benchmark quotes beside its ratios, measured in the same run.
#pragma once

#include <chrono>

#include <torch/torch.h>

namespace distill::bench {

inline double bf16MatmulRate() {
  const torch::Tensor a = torch::randn({2048, 2048}).to(torch::kBFloat16);
  const torch::Tensor b = torch::randn({2048, 2048}).to(torch::kBFloat16);
  (void)torch::matmul(a, b);  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) (void)torch::matmul(a, b);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return 5 * 2.0 * 2048.0 * 2048 * 2048 / seconds / 1e9;
}

}  // namespace distill::bench
