// Benchmark (not a test): the routed FFN of a moefied block (distill moefy,
// trainer/moe/) against the dense FFN it came from, measured in one run on
// one thread at the same shapes:
//
//   time     seconds per forward of one block's FFN over `tokens` rows, dense
//            and with E experts of which each token runs k (routers random,
//            so tokens spread over the experts as a fitted router spreads
//            them; the split itself does not change the cost); the ideal
//            ratio is about E / k
//   dtypes   fp32 (OpenBLAS) and bf16 (oneDNN)
//   peak     this machine's bf16 matmul rate, for scale
//
//   build/distill_bench_moe --d-model 1024 --d-ff 4096 --tokens 4096 --experts 8 --top-k 2
#include <chrono>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "bench/peak_rate.h"

#include "trainer/model/builtin.h"
#include "trainer/moe/moefication.h"

namespace {

using namespace distill;
using Clock = std::chrono::steady_clock;

double secondsPerForward(torch::jit::Module& block, const torch::Tensor& h, int repeats) {
  torch::NoGradGuard no_grad;
  (void)block.run_method("ffn", h);  // warm-up
  const auto start = Clock::now();
  for (int i = 0; i < repeats; ++i) (void)block.run_method("ffn", h);
  return std::chrono::duration<double>(Clock::now() - start).count() / repeats;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Routed (MoEfied) FFN against the dense FFN"};
  int64_t d = 1024, d_ff = 4096, tokens = 4096, experts = 8, top_k = 2;
  int repeats = 5;
  app.add_option("--d-model", d)->capture_default_str();
  app.add_option("--d-ff", d_ff)->capture_default_str();
  app.add_option("--tokens", tokens)->capture_default_str();
  app.add_option("--experts", experts)->capture_default_str();
  app.add_option("--top-k", top_k)->capture_default_str();
  app.add_option("--repeats", repeats)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  at::set_num_threads(1);
  torch::manual_seed(1);

  model::TransformerSize size;
  size.vocab_size = 64;
  size.max_len = 16;
  size.d_model = d;
  size.num_layers = 1;
  size.num_heads = 8;
  size.d_ff = d_ff;
  size.dropout = 0;
  torch::jit::Module dense = model::buildDecoderLM(size, 1);
  torch::jit::Module routed = moe::expertsModel(dense, "bench", experts, top_k);
  dense.eval();
  routed.eval();
  {
    torch::NoGradGuard no_grad;
    routed.attr("layer0").toModule().attr("router_weight").toTensor().normal_();
  }
  const double peak = bench::bf16MatmulRate();
  const double flops = 2.0 * 2 * static_cast<double>(tokens) * d * d_ff;  // the dense FFN's two matmuls
  std::printf("FFN d_model %lld, d_ff %lld, %lld tokens; %lld experts, top-%lld (ideal %.2fx)\n",
              static_cast<long long>(d), static_cast<long long>(d_ff), static_cast<long long>(tokens),
              static_cast<long long>(experts), static_cast<long long>(top_k),
              static_cast<double>(experts) / static_cast<double>(top_k));
  std::printf("bf16 matmul peak, this run: %.0f GFLOP/s\n", peak);
  for (const auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    dense.to(dtype);
    routed.to(dtype);
    const torch::Tensor h = torch::randn({tokens, d}).to(dtype);
    auto dense_block = dense.attr("layer0").toModule(), routed_block = routed.attr("layer0").toModule();
    const double t_dense = secondsPerForward(dense_block, h, repeats);
    const double t_routed = secondsPerForward(routed_block, h, repeats);
    std::printf("%-5s dense %.4f s (%.0f GFLOP/s), routed %.4f s: %.2fx faster\n",
                dtype == torch::kFloat32 ? "fp32" : "bf16", t_dense, flops / t_dense / 1e9, t_routed,
                t_dense / t_routed);
  }
  return 0;
}
