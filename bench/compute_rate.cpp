// Benchmark (not a test): how close the step's parts run to this machine's
// matmul rate, all measured in one run on one thread.
//
//   peak        a [2048,D] x [D,D] matmul in bf16 and in fp32 (the ceilings)
//   teacher     the forward of a built-in encoder of width D in inference
//               mode, fp32 and bf16 (the precision policy's teacher)
//   student     forward + backward of the same model under bf16 autocast with
//               fp32 parameters (the precision policy's student), and in fp32
// Each is reported in GFLOP/s and as a fraction of the bf16 matmul rate.
// FLOPs count the matmuls: 2 per multiply-add of every linear layer and both
// attention products, x3 for forward + backward.
//
//   build/distill_bench_compute --d-model 1024 --layers 2 --batch 8 --seq 128
#include <chrono>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "trainer/model/builtin.h"
#include "trainer/model/model_io.h"
#include "trainer/precision/precision_policy.h"

namespace {

using namespace distill;
using Clock = std::chrono::steady_clock;

template <typename F>
double secondsPerCall(F f, int repeats) {
  f();  // warm-up: oneDNN builds its kernels on the first call
  const auto start = Clock::now();
  for (int i = 0; i < repeats; ++i) f();
  return std::chrono::duration<double>(Clock::now() - start).count() / repeats;
}

double matmulRate(torch::ScalarType dtype, int64_t d, int repeats) {
  const torch::Tensor a = torch::randn({2048, d}).to(dtype);
  const torch::Tensor b = torch::randn({d, d}).to(dtype);
  const double s = secondsPerCall([&] { (void)torch::matmul(a, b); }, repeats);
  return 2.0 * 2048 * d * d / s / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Compute rate of the teacher forward and the student step against the bf16 matmul rate"};
  model::TransformerSize size;
  size.d_model = 1024;
  size.num_layers = 2;
  size.num_heads = 16;
  size.vocab_size = 1024;
  size.dropout = 0.0;
  int64_t batch = 8, seq = 128, repeats = 5;
  app.add_option("--d-model", size.d_model)->capture_default_str();
  app.add_option("--layers", size.num_layers)->capture_default_str();
  app.add_option("--heads", size.num_heads)->capture_default_str();
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--seq", seq)->capture_default_str();
  app.add_option("--repeats", repeats)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  size.d_ff = 4 * size.d_model;
  size.max_len = seq;
  at::set_num_threads(1);

  const double bf16_peak = matmulRate(torch::kBFloat16, size.d_model, static_cast<int>(repeats) * 4);
  const double fp32_peak = matmulRate(torch::kFloat, size.d_model, static_cast<int>(repeats));
  std::printf("peak      bf16 matmul %8.1f GFLOP/s   fp32 matmul %8.1f GFLOP/s   (1 thread, [2048,%ld]x[%ld,%ld])\n",
              bf16_peak, fp32_peak, static_cast<long>(size.d_model), static_cast<long>(size.d_model),
              static_cast<long>(size.d_model));

  const double d = static_cast<double>(size.d_model), tokens = static_cast<double>(batch * seq);
  const double per_layer = 2 * tokens * (4 * d * d + 2 * d * size.d_ff) + 4 * tokens * seq * d;
  const double forward_flops = size.num_layers * per_layer;
  const torch::Tensor ids = torch::randint(0, size.vocab_size, {batch, seq}, torch::kLong);
  const torch::Tensor mask = torch::ones({batch, seq}, torch::kLong);
  const c10::Device cpu(c10::DeviceType::CPU);

  for (const char* name : {"fp32", "bf16"}) {
    if (std::string(name) == "bf16" && !precision::cpuHasNativeBf16()) continue;
    auto policy = precision::makePrecisionPolicy(name, cpu);
    auto teacher = model::buildEncoderClassifier(size, 10, 1);
    policy->prepareTeacher(teacher);
    teacher.eval();
    const double s = secondsPerCall([&] {
      c10::InferenceMode inference;
      (void)model::runModel(teacher, ids, mask, "teacher");
    }, static_cast<int>(repeats));
    const double rate = forward_flops / s / 1e9;
    std::printf("teacher   %s forward        %8.1f GFLOP/s = %5.1f%% of the bf16 matmul rate  (%.1f ms)\n", name, rate,
                100 * rate / bf16_peak, 1e3 * s);
  }
  for (const char* name : {"fp32", "bf16"}) {
    if (std::string(name) == "bf16" && !precision::cpuHasNativeBf16()) continue;
    auto policy = precision::makePrecisionPolicy(name, cpu);
    auto student = model::buildEncoderClassifier(size, 10, 2);
    student.train();
    const double s = secondsPerCall([&] {
      model::ModelOutputs out;
      {
        auto region = policy->studentRegion();
        out = model::runModel(student, ids, mask, "student");
      }
      out.logits.to(torch::kFloat).logsumexp(-1).sum().backward();
    }, static_cast<int>(repeats));
    const double rate = 3 * forward_flops / s / 1e9;
    std::printf("student   %s forward+backward %6.1f GFLOP/s = %5.1f%% of the bf16 matmul rate  (%.1f ms)\n", name,
                rate, 100 * rate / bf16_peak, 1e3 * s);
  }
  return 0;
}
