// `distill moefy MODEL --calibration DATA --experts 8 --top-k 2 --out DIR`:
// MoEfication of a built-in model or an import (Llama, Qwen2, Mistral,
// GPT-2, BERT; trainer/moe/moefication.h): every FFN becomes experts of co-activating
// neurons with a fitted router that runs the top k per token. Alone or under mpirun, like `distill prune` (calibration
// samples sharded over ranks, statistics summed); rank 0 writes DIR:
//   model.pt            the routed model (loads like any TorchScript model; a
//                       student.path for `distill train`, which trains the
//                       experts and keeps the routers)
//   model.safetensors   its parameters and routers
//   moefy_report.json   experts, top-k, the FFN parameters a token uses, per
//                       layer the router's recall and the FFN's error, and the
//                       quality (loss, accuracy, perplexity for a language
//                       model) before and after on --eval
#include <CLI/CLI.hpp>
#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/script.h>

#include "cli/calibration_ranks.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/files.h"
#include "common/log.h"
#include "trainer/data/dataset.h"
#include "trainer/evaluate.h"
#include "trainer/model/model_io.h"
#include "trainer/moe/moefication.h"
#include "trainer/prune/prunable_blocks.h"

namespace distill::cli {
namespace {
namespace fs = std::filesystem;

struct MoefyArgs {
  std::string model, calibration, eval, out, split = "co-activation";
  int64_t experts = 8, top_k = 2;
  int64_t samples = 128, batch_size = 8;
  int64_t router_steps = 300;
  double router_lr = 0.01;
  int threads = 1;
};

// Loss, accuracy (and perplexity for a language model) of `model` on `data`,
// each rank scoring its share of the samples.
nlohmann::json quality(torch::jit::Module& model, const data::ShardedDataset& data, const std::string& name,
                       const CalibrationRanks& ranks, int64_t batch_size) {
  const auto ids = trainer::evalShard(data.manifest().num_samples, ranks.rank, ranks.size);
  const trainer::EvalTotals t = trainer::evaluate(model, data, ids, batch_size, name);
  torch::Tensor sums = torch::tensor({t.correct, t.loss_sum, t.rows, t.loss_rows}, torch::kFloat64);
  ranks.sum(sums);
  trainer::EvalTotals all{sums[0].item<double>(), sums[1].item<double>(), sums[2].item<double>(),
                          sums[3].item<double>()};
  nlohmann::json out = {{"loss", all.loss()}, {"accuracy", all.accuracy()}};
  if (data.manifest().task == "language_modeling") out["perplexity"] = std::exp(all.loss());
  return out;
}

int runMoefy(const MoefyArgs& args) {
  return runOnRanks("moefy", args.threads, [&args](const CalibrationRanks& ranks) {
    DISTILL_CHECK(args.samples > 0 && args.batch_size > 0, "--samples and --batch-size must be positive");
    DISTILL_CHECK(args.router_steps > 0 && args.router_lr > 0, "--router-steps and --router-lr must be positive");
    DISTILL_CHECK(args.split == "co-activation" || args.split == "random", "--split: \"", args.split,
                  "\" is not co-activation or random");
    torch::jit::Module dense = model::loadModel(args.model);
    torch::jit::Module moe = moe::expertsModel(dense, args.model, args.experts, args.top_k);
    const auto calibration = data::ShardedDataset::open(args.calibration);
    prune::prunableBlocks(dense, args.model, calibration.manifest());  // the vocabulary and length checks
    const auto eval = data::ShardedDataset::open(args.eval.empty() ? args.calibration : args.eval);
    prune::prunableBlocks(dense, args.model, eval.manifest());
    const auto total = std::min<uint64_t>(static_cast<uint64_t>(args.samples), calibration.manifest().num_samples);
    const std::vector<uint64_t> mine = ranks.samples(total, "--calibration " + args.calibration);
    if (ranks.root()) {
      log::info("moefying ", args.model, " into ", args.experts, " experts per FFN, top-", args.top_k, ", on ", total,
                " calibration samples of ", args.calibration,
                ranks.size > 1 ? " over " + std::to_string(ranks.size) + " ranks" : "");
    }
    const nlohmann::json before = quality(dense, eval, args.model, ranks, args.batch_size);
    moe::MoefyOptions options;
    options.batch_size = args.batch_size;
    options.split = args.split;
    options.router.steps = args.router_steps;
    options.router.lr = args.router_lr;
    const moe::MoefyReport report = moe::moefyLayerwise(moe, calibration, mine, options, ranks.collective,
                                                        [&ranks](const std::string& line) {
                                                          if (ranks.root()) log::info(line);
                                                        });
    const nlohmann::json after = quality(moe, eval, "the moefied model", ranks, args.batch_size);
    if (!ranks.root()) return;

    writeModel(args.out, moe);
    const fs::path out(args.out);
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : report.layers) {
      layers.push_back({{"layer", l.name},
                        {"expert_width", l.expert_width},
                        {"co_activation_inside_experts", l.co_activation},
                        {"router_loss", l.router_loss},
                        {"router_recall", l.recall},
                        {"ffn_relative_error", l.relative_error}});
    }
    const double fraction = moe::activeFfnFraction(moe);
    const nlohmann::json json = {
        {"source", args.model},
        {"experts", args.experts},
        {"top_k", args.top_k},
        {"split", args.split},
        {"active_ffn_fraction", fraction},
        {"calibration", {{"data", args.calibration}, {"samples", total}, {"tokens", report.tokens}}},
        {"eval", {{"data", args.eval.empty() ? args.calibration : args.eval}, {"before", before}, {"after", after}}},
        {"layers", layers}};
    files::writeFileAtomic((out / "moefy_report.json").string(), json.dump(2) + "\n");
    const char* metric = eval.manifest().task == "language_modeling" ? "perplexity" : "accuracy";
    log::info("wrote ", (out / "model.pt").string(), ", model.safetensors and moefy_report.json: ",
              100.0 * fraction, "% of the FFN parameters active per token; ", metric, " ",
              before[metric].get<double>(), " -> ", after[metric].get<double>());
  });
}

}  // namespace

void addMoefy(CLI::App& app, Run& run) {
  auto args = std::make_shared<MoefyArgs>();
  auto* cmd = app.add_subcommand("moefy", "MoEfication (alone or under mpirun): split every FFN of a built-in model "
                                          "or a Hugging Face import into experts of co-activating neurons with a router that runs the top k");
  cmd->add_option("model", args->model, "TorchScript model: built in (init-model, or trained from one) or a "
                  "Llama, Qwen2, Mistral, GPT-2 or BERT import (import-hf)")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--calibration", args->calibration, "Dataset directory (prepare-data) of calibration samples")
      ->required();
  cmd->add_option("--experts", args->experts, "Experts per FFN (must divide its neurons)")->capture_default_str();
  cmd->add_option("--top-k", args->top_k, "Experts each token runs")->capture_default_str();
  cmd->add_option("--out", args->out, "Output directory")->required();
  cmd->add_option("--eval", args->eval, "Dataset the quality before and after is measured on (default: --calibration)");
  cmd->add_option("--split", args->split, "co-activation (MoEfication), or random (the baseline it is compared with)")
      ->capture_default_str();
  cmd->add_option("--samples", args->samples, "Calibration samples (the dataset's first ones)")->capture_default_str();
  cmd->add_option("--batch-size", args->batch_size, "Samples per forward")->capture_default_str();
  cmd->add_option("--router-steps", args->router_steps, "Full-batch Adam steps fitting each router")
      ->capture_default_str();
  cmd->add_option("--router-lr", args->router_lr, "Adam learning rate of the router fit")->capture_default_str();
  cmd->add_option("--threads", args->threads, "LibTorch threads per rank")->capture_default_str();
  cmd->callback([args, &run] { run = [args] { return runMoefy(*args); }; });
}

}  // namespace distill::cli
