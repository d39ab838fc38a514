// Benchmark (not a test), CUDA builds only: the model FLOP utilisation (MFU)
// of one training step of a ~1B-parameter built-in decoder student on one GPU,
// against this GPU's own bf16 matmul rate measured in the same run.
//
//   peak      an 8192^3 bf16 matmul (the ceiling; also quoted against the
//             data-sheet dense bf16 rate given by --spec-tflops)
//   step      forward under the precision policy's autocast (fp32 master
//             weights), cross-entropy over the vocabulary in fp32, backward,
//             AdamW on fp32 state: the service's student step
// FLOPs are counted as the usual MFU does: 6 per parameter of every matmul
// weight per token, plus the attention products 12 * layers * seq * d_model
// per token; embedding lookups count nothing.
//
//   build-gpu/distill_bench_gpu_step --d-model 2048 --layers 18 --batch 8 --seq 1024
#include <chrono>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/torch.h>

#include "trainer/model/builtin.h"
#include "trainer/model/model_io.h"
#include "trainer/optim/adamw.h"
#include "trainer/precision/precision_policy.h"

namespace {

using namespace distill;
using Clock = std::chrono::steady_clock;

template <typename F>
double secondsPerCall(F f, int warmup, int repeats) {
  for (int i = 0; i < warmup; ++i) f();
  torch::cuda::synchronize();
  const auto start = Clock::now();
  for (int i = 0; i < repeats; ++i) f();
  torch::cuda::synchronize();
  return std::chrono::duration<double>(Clock::now() - start).count() / repeats;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"MFU of a ~1B decoder student step on one GPU"};
  model::TransformerSize size;
  size.d_model = 2048;
  size.num_layers = 18;
  size.num_heads = 16;
  size.vocab_size = 32000;
  size.dropout = 0.0;
  int64_t batch = 8, seq = 1024, steps = 20, warmup = 5;
  double spec_tflops = 989.0;  // H100/H200 SXM dense bf16
  std::string precision_name = "bf16";
  app.add_option("--d-model", size.d_model)->capture_default_str();
  app.add_option("--layers", size.num_layers)->capture_default_str();
  app.add_option("--heads", size.num_heads)->capture_default_str();
  app.add_option("--vocab", size.vocab_size)->capture_default_str();
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--seq", seq)->capture_default_str();
  app.add_option("--steps", steps, "timed steps")->capture_default_str();
  app.add_option("--warmup", warmup,
                 "untimed steps first: TorchScript's profiling executor optimises the graph after its profiled runs")
      ->capture_default_str();
  app.add_option("--precision", precision_name)->capture_default_str();
  app.add_option("--spec-tflops", spec_tflops, "the GPU's data-sheet dense bf16 rate")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (!torch::cuda::is_available()) {
    std::fprintf(stderr, "distill_bench_gpu_step: no CUDA device\n");
    return 2;
  }
  size.d_ff = 4 * size.d_model;
  size.max_len = seq;
  const c10::Device gpu(c10::DeviceType::CUDA, 0);

  const int64_t n = 8192;
  const torch::Tensor a = torch::randn({n, n}, torch::dtype(torch::kBFloat16).device(gpu));
  const torch::Tensor b = torch::randn({n, n}, torch::dtype(torch::kBFloat16).device(gpu));
  const double matmul_s = secondsPerCall([&] { (void)torch::matmul(a, b); }, 3, 10);
  const double peak = 2.0 * n * n * n / matmul_s / 1e12;
  std::printf("peak      bf16 matmul %.1f TFLOP/s measured ([%ld]^3), data sheet %.0f TFLOP/s\n", peak,
              static_cast<long>(n), spec_tflops);

  auto policy = precision::makePrecisionPolicy(precision_name, gpu);
  auto student = model::buildDecoderLM(size, 1);
  model::setLayerOutputs(student, /*hidden_states=*/false, /*attentions=*/false);
  student.to(gpu);
  student.train();
  std::vector<sparsity::NamedTensor> params;
  int64_t total = 0, matmul_params = 0;
  for (const auto& p : student.named_parameters(/*recurse=*/true)) {
    params.push_back({p.name, p.value});
    total += p.value.numel();
    const bool embedding = p.name.find("embed_") != std::string::npos;
    if (p.value.dim() == 2 && !embedding) matmul_params += p.value.numel();
  }
  optim::AdamW optimizer(params, optim::AdamWOptions{});
  const torch::Tensor ids = torch::randint(0, size.vocab_size, {batch, seq}, torch::dtype(torch::kLong).device(gpu));
  const torch::Tensor mask = torch::ones({batch, seq}, torch::dtype(torch::kLong).device(gpu));
  std::printf("student   decoder d_model %ld, %ld layers, vocab %ld: %.3f B parameters (%.3f B in matmuls), "
              "batch %ld x %ld tokens, %s\n",
              static_cast<long>(size.d_model), static_cast<long>(size.num_layers), static_cast<long>(size.vocab_size),
              total / 1e9, matmul_params / 1e9, static_cast<long>(batch), static_cast<long>(seq),
              policy->name().c_str());

  auto step = [&] {
    model::ModelOutputs out;
    {
      auto region = policy->studentRegion();
      out = model::runModel(student, ids, mask, "student");
    }
    const torch::Tensor logits = out.logits.narrow(1, 0, seq - 1).to(torch::kFloat).reshape({-1, size.vocab_size});
    const torch::Tensor labels = ids.narrow(1, 1, seq - 1).reshape({-1});
    torch::nn::functional::cross_entropy(logits, labels).backward();
    optimizer.step(1e-4, nullptr);
    for (auto& p : params) p.tensor.mutable_grad() = torch::Tensor();
  };
  const double s = secondsPerCall(step, static_cast<int>(warmup), static_cast<int>(steps));
  const double tokens = static_cast<double>(batch * seq);
  const double flops = 6.0 * matmul_params * tokens + 12.0 * size.num_layers * seq * size.d_model * tokens;
  const double rate = flops / s / 1e12;
  std::printf("step      %.1f ms, %.0f tokens/s, %.1f TFLOP/s: MFU %.1f%% of the measured matmul rate, "
              "%.1f%% of the data sheet\n",
              1e3 * s, tokens / s, rate, 100 * rate / peak, 100 * rate / spec_tflops);
  return 0;
}
