// `distill evaluate --model FILE --data DIR [--classes 2,3]`: accuracy and mean
// task loss of a TorchScript model on a dataset, printed as one JSON line.
// --classes scores a model that knows some of the dataset's classes (output j
// is class classes[j], as in distill.teachers[k].classes) on all of them.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>

#include <torch/script.h>
#include <torch/torch.h>

#include "cli/commands.h"
#include "trainer/data/dataset.h"
#include "trainer/evaluate.h"
#include "trainer/non_finite.h"
#include "trainer/model/model_io.h"

namespace distill::cli {
namespace {

struct EvaluateArgs {
  std::string model;
  std::string data;
  int64_t batch_size = 128;
  int threads = 1;
  std::vector<int64_t> classes;
};

int evaluateModel(const EvaluateArgs& args) {
  at::set_num_threads(args.threads);
  auto module = model::loadModel(args.model);
  trainer::checkFinite(model::namedParameters(module), args.model + " (not evaluated)");
  const auto dataset = data::ShardedDataset::open(args.data);
  const auto ids = trainer::evalShard(dataset.manifest().num_samples, 0, 1);
  const auto totals = trainer::evaluate(module, dataset, ids, args.batch_size, args.model, args.classes);
  std::string perplexity;  // language modeling: exp of the mean token loss
  if (dataset.manifest().task == "language_modeling") perplexity = ", \"perplexity\": " + std::to_string(std::exp(totals.loss()));
  std::printf("{\"model\": \"%s\", \"data\": \"%s\", \"accuracy\": %.6f, \"loss\": %.6f%s, \"rows\": %.0f}\n",
              args.model.c_str(), args.data.c_str(), totals.accuracy(), totals.loss(), perplexity.c_str(), totals.rows);
  return 0;
}

}  // namespace

void addEvaluate(CLI::App& app, Run& run) {
  auto args = std::make_shared<EvaluateArgs>();
  auto* cmd = app.add_subcommand("evaluate", "Accuracy of a model on a dataset");
  cmd->add_option("--model", args->model, "TorchScript model file")->required();
  cmd->add_option("--data", args->data, "Dataset directory (dataset.json + shards)")->required();
  cmd->add_option("--batch-size", args->batch_size, "Samples per forward pass");
  cmd->add_option("--threads", args->threads, "LibTorch threads");
  cmd->add_option("--classes", args->classes, "Class map of a partial model: output j is dataset class classes[j]")
      ->delimiter(',');
  cmd->callback([args, &run] { run = [args] { return evaluateModel(*args); }; });
}

}  // namespace distill::cli
