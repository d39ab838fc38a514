// `distill prune MODEL --calibration DATA --method sparsegpt|wanda|magnitude
// --sparsity 0.5|2:4 --out DIR`: one-shot pruning on calibration data
// (trainer/prune/layerwise.h). Runs alone or under mpirun: every rank takes
// every size-th calibration sample (rank r: samples r, r + size, ...), the
// layer statistics are summed over ranks, rank 0 prunes each layer and sends
// the result to the others, and rank 0 writes DIR:
//   model.pt               the pruned model (a student.path for `distill train`)
//   model.safetensors      its parameters; masks.safetensors: per pruned tensor
//                          its keep mask (uint8, 1 = kept)
//   sparsity_report.json   method, pattern, calibration tokens, and per tensor
//                          its density and relative output error
//   recovery.yaml          the sparsity section that keeps these masks in a
//                          train job (docs/sparsity.md#one-shot-pruning)
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/script.h>

#include "cli/calibration_ranks.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/files.h"
#include "common/log.h"
#include "trainer/data/dataset.h"
#include "trainer/data/tensor_io.h"
#include "trainer/model/model_io.h"
#include "trainer/prune/layerwise.h"

namespace distill::cli {
namespace {
namespace fs = std::filesystem;

struct PruneArgs {
  std::string model, calibration, method = "sparsegpt", sparsity = "0.5", out;
  int64_t samples = 128;
  int64_t batch_size = 8;
  int threads = 1;
  double dampening = 0.01;
};

// The train job's sparsity section that keeps exactly the pruned entries
// masked: the masks file itself, under the fixed schedule (never recomputed;
// AdamW keeps masked weights at 0).
std::string recoveryYaml(const std::string& masks_file) {
  return "# distill prune: keeps the pruned entries masked while training (docs/sparsity.md#one-shot-pruning)\n"
         "sparsity:\n  enabled: true\n  masks: \"" + masks_file + "\"   # schedule: fixed (the default with masks)\n";
}

int runPrune(const PruneArgs& args) {
  return runOnRanks("prune", args.threads, [&args](const CalibrationRanks& ranks) {
    DISTILL_CHECK(args.method == "sparsegpt" || args.method == "wanda" || args.method == "magnitude",
                  "--method: \"", args.method, "\" is not sparsegpt, wanda or magnitude");
    DISTILL_CHECK(args.samples > 0 && args.batch_size > 0, "--samples and --batch-size must be positive");
    DISTILL_CHECK(args.dampening > 0, "--dampening must be > 0 (SparseGPT's Hessian must stay invertible), got ",
                  args.dampening);
    const prune::Pattern pattern = prune::Pattern::parse(args.sparsity, "--sparsity");
    torch::jit::Module model = model::loadModel(args.model);
    const auto calibration = data::ShardedDataset::open(args.calibration);
    const prune::PrunableBlocks blocks = prune::prunableBlocks(model, args.model, calibration.manifest());
    const auto total = std::min<uint64_t>(static_cast<uint64_t>(args.samples), calibration.manifest().num_samples);
    const std::vector<uint64_t> mine = ranks.samples(total, "--calibration " + args.calibration);

    prune::LayerwiseOptions options;
    options.method = args.method;
    options.pattern = pattern;
    options.batch_size = args.batch_size;
    options.sparsegpt.dampening = args.dampening;
    if (ranks.root()) {
      log::info("pruning ", args.model, " with ", args.method, " to ", pattern.describe(), " on ", total,
                " calibration samples of ", args.calibration,
                ranks.size > 1 ? " over " + std::to_string(ranks.size) + " ranks" : "");
    }
    const auto report = prune::pruneLayerwise(model, blocks, calibration, mine, options, ranks.collective,
                                              [&ranks](const std::string& line) {
                                                if (ranks.root()) log::info(line);
                                              });
    if (!ranks.root()) return;
    writeModel(args.out, model);
    const fs::path out(args.out);
    std::vector<std::pair<std::string, at::Tensor>> masks;
    for (const auto& l : report.layers) {
      const torch::Tensor w = model.attr(l.name.substr(0, l.name.find('.'))).toModule()
                                  .attr(l.name.substr(l.name.find('.') + 1)).toTensor();
      masks.emplace_back(l.name, w.ne(0).to(torch::kUInt8));
    }
    data::saveTensors((out / "masks.safetensors").string(), masks);
    nlohmann::json tensors = nlohmann::json::object();
    for (const auto& l : report.layers) {
      tensors[l.name] = {{"density", l.density}, {"pattern", pattern.describe()}, {"relative_error", l.relative_error}};
    }
    const nlohmann::json json = {{"method", args.method},
                                 {"pattern", pattern.describe()},
                                 {"source", args.model},
                                 {"calibration", {{"data", args.calibration}, {"samples", total}, {"tokens", report.tokens}}},
                                 {"tensors", tensors}};
    files::writeFileAtomic((out / "sparsity_report.json").string(), json.dump(2) + "\n");
    files::writeFileAtomic((out / "recovery.yaml").string(),
                           recoveryYaml(fs::absolute(out / "masks.safetensors").string()));
    log::info("wrote ", (out / "model.pt").string(), ", model.safetensors, masks.safetensors, sparsity_report.json and "
              "recovery.yaml (", report.layers.size(), " tensors pruned, ", report.tokens, " calibration tokens)");
  });
}

}  // namespace

void addPrune(CLI::App& app, Run& run) {
  auto args = std::make_shared<PruneArgs>();
  auto* cmd = app.add_subcommand("prune", "One-shot pruning on calibration data (alone or under mpirun): "
                                          "SparseGPT, Wanda or magnitude, to a fraction or N:M");
  cmd->add_option("model", args->model, "TorchScript model: built in (init-model), or a Llama, Qwen2 or Mistral (import-hf)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--calibration", args->calibration, "Dataset directory (prepare-data) of calibration samples")
      ->required();
  cmd->add_option("--method", args->method, "sparsegpt, wanda or magnitude")->capture_default_str();
  cmd->add_option("--sparsity", args->sparsity, "Fraction removed per layer (0.5) or N:M kept (2:4, 4:8)")
      ->capture_default_str();
  cmd->add_option("--out", args->out, "Output directory")->required();
  cmd->add_option("--samples", args->samples, "Calibration samples (the dataset's first ones)")->capture_default_str();
  cmd->add_option("--batch-size", args->batch_size, "Calibration samples per forward")->capture_default_str();
  cmd->add_option("--dampening", args->dampening, "SparseGPT: added to the Hessian's diagonal, times its mean")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "LibTorch threads per rank")->capture_default_str();
  cmd->callback([args, &run] { run = [args] { return runPrune(*args); }; });
}

}  // namespace distill::cli
