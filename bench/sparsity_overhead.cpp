// Benchmark (not a test): the cost of sparse training on the demo student.
//
// Trains copies of one student side by side, one optimizer step at a time,
// round-robin (dense, then each criterion), so every variant sees the same
// machine state; reports the step time of each variant as a ratio to
// the dense baseline measured in the same run (mean, which includes the
// mask updates, and median), and the memory of masks,
// scores and criterion state as a fraction of the model's parameter memory.
//
//   build/distill_bench_sparsity                       # the demo student (docs/benchmarks.md)
//   build/distill_bench_sparsity --d-model 256 --layers 4 --d-ff 1024 --steps 60
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "trainer/model/builtin.h"
#include "trainer/model/model_io.h"
#include "trainer/optim/adamw.h"
#include "trainer/optim/grad_clip.h"
#include "trainer/sparsity/pruner.h"
#include "trainer/sparsity/structure_groups.h"

namespace {

using namespace distill;

struct Variant {
  std::string name;
  torch::jit::Module model;
  std::vector<sparsity::NamedTensor> params;
  std::unique_ptr<optim::AdamW> optimizer;
  std::unique_ptr<sparsity::Pruner> pruner;  // null: dense
  std::vector<double> seconds;
};

config::SparsitySpec sparsitySpec(const std::string& criterion, int64_t steps, uint32_t interval) {
  config::SparsitySpec s;
  s.set_enabled(true);
  s.set_criterion(criterion);
  s.set_granularity("unstructured");
  s.set_scope(criterion == "pst" ? "per_layer" : "global");
  s.set_schedule("cubic");
  s.set_initial_sparsity(0);
  s.set_final_sparsity(0.9);
  s.set_warmup_steps(2);
  s.set_cooldown_steps(static_cast<uint32_t>(steps / 4));
  s.set_interval(interval);  // 10: as the demo config
  s.set_min_density(0);
  auto* pst = s.mutable_pst();
  pst->set_rank(4);
  pst->set_beta(1);
  pst->set_alpha1(1);
  pst->set_alpha2(1);
  pst->set_lr_scale(1);
  return s;
}

double step(Variant& v, const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& labels, int64_t t) {
  const auto start = std::chrono::steady_clock::now();
  for (auto& p : v.params) {
    if (p.tensor.grad().defined()) p.tensor.mutable_grad().zero_();
  }
  const auto out = model::runModel(v.model, ids, mask, v.name);
  torch::nn::functional::cross_entropy(out.logits, labels).backward();
  if (v.pruner) v.pruner->beforeAllReduce();
  if (v.pruner) v.pruner->afterAllReduce();
  optim::clipGradNorm(v.params, 1.0);
  if (v.pruner) v.pruner->beforeOptimizer(t);
  // The pruner masked the gradients before the (absent) all-reduce, as the worker's gradient sync does.
  v.optimizer->step(1e-3, v.pruner ? v.pruner->masks() : nullptr,
                    /*gradients_masked=*/v.pruner && v.pruner->gradientMasks() != nullptr);
  if (v.pruner) v.pruner->afterOptimizer(t + 1, 1e-3);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Step-time and memory overhead of sparse training, against dense training in the same run"};
  model::TransformerSize size;  // the demo student: 1 layer, d 32, 2 heads, d_ff 64
  size.d_model = 32;
  size.num_layers = 1;
  size.num_heads = 2;
  size.d_ff = 64;
  size.dropout = 0.0;
  int64_t batch = 32, seq = 24, steps = 200, threads = 1;
  std::vector<std::string> criteria = {"magnitude", "movement", "pst"};
  uint32_t interval = 10;
  app.add_option("--d-model", size.d_model);
  app.add_option("--layers", size.num_layers);
  app.add_option("--heads", size.num_heads);
  app.add_option("--d-ff", size.d_ff);
  app.add_option("--batch", batch);
  app.add_option("--seq", seq);
  app.add_option("--steps", steps, "optimizer steps per variant");
  app.add_option("--threads", threads);
  app.add_option("--criteria", criteria);
  app.add_option("--interval", interval, "steps between mask updates (the mean includes them)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  at::set_num_threads(static_cast<int>(threads));
  size.max_len = std::max<int64_t>(seq, 32);

  torch::manual_seed(0);
  const torch::Tensor ids = torch::randint(2, size.vocab_size, {batch, seq}, torch::kLong);
  const torch::Tensor mask = torch::ones({batch, seq}, torch::kLong);
  const torch::Tensor labels = torch::randint(0, 6, {batch}, torch::kLong);

  std::vector<Variant> variants;
  std::vector<std::string> names = {"dense"};
  names.insert(names.end(), criteria.begin(), criteria.end());
  for (const std::string& name : names) {
    Variant v;
    v.name = name;
    v.model = model::buildEncoderClassifier(size, 6, 7);
    v.model.train();
    v.params = model::namedParameters(v.model);
    v.optimizer = std::make_unique<optim::AdamW>(v.params, optim::AdamWOptions{0.9, 0.999, 1e-8, 0.01});
    if (name != "dense") {
      const auto spec = sparsitySpec(name, steps, interval);
      v.pruner = std::make_unique<sparsity::Pruner>(v.params, spec, sparsity::modelGroups(v.model, spec), steps, 1);
      v.pruner->start();
    }
    variants.push_back(std::move(v));
  }
  int64_t model_bytes = 0;
  for (const auto& p : variants.front().params) model_bytes += p.tensor.numel() * p.tensor.element_size();

  const int64_t warmup = 5;
  for (int64_t t = 0; t < steps + warmup; ++t) {
    for (Variant& v : variants) {
      const double s = step(v, ids, mask, labels, t);
      if (t >= warmup) v.seconds.push_back(s);
    }
  }
  const double dense = mean(variants.front().seconds);
  const double dense_median = median(variants.front().seconds);
  std::printf("student: d_model %ld, layers %ld, heads %ld, d_ff %ld; batch %ld x %ld tokens; %ld steps per variant; "
              "%ld thread(s)\n", (long)size.d_model, (long)size.num_layers, (long)size.num_heads, (long)size.d_ff,
              (long)batch, (long)seq, (long)steps, (long)threads);
  std::printf("model parameters: %ld bytes\n", (long)model_bytes);
  // The mean includes the mask-update steps (every 10th); the median shows a step without one.
  std::printf("%-10s %12s %9s %14s %9s %9s %12s %9s\n", "variant", "mean step ms", "vs dense", "median step ms",
              "vs dense", "sparsity", "state bytes", "of model");
  for (const Variant& v : variants) {
    const double m = mean(v.seconds), med = median(v.seconds);
    const int64_t bytes = v.pruner ? v.pruner->stateBytes() : 0;
    std::printf("%-10s %12.3f %8.3fx %14.3f %8.3fx %9.4f %12ld %8.1f%%\n", v.name.c_str(), m * 1e3, m / dense,
                med * 1e3, med / dense_median, v.pruner ? v.pruner->actual() : 0.0, (long)bytes,
                100.0 * bytes / model_bytes);
  }
  return 0;
}
