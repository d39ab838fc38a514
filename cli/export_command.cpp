// `distill export CHECKPOINT --out DIR`: the sparse student as TorchScript +
// safetensors + sparsity_report.json.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>

#include "cli/commands.h"
#include "trainer/checkpoint/export.h"

namespace distill::cli {

void addExport(CLI::App& app, Run& run) {
  auto checkpoint = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("torchscript");
  auto level = std::make_shared<double>(0.0);
  auto* cmd = app.add_subcommand("export", "Write the student of a checkpoint with its masks applied");
  cmd->add_option("checkpoint", *checkpoint,
                  "Committed checkpoint directory, e.g. runs/demo/checkpoints/latest (with --format hf, also a "
                  "model file written by import-hf)")
      ->required();
  cmd->add_option("--out", *out, "Output directory")->required();
  cmd->add_option("--format", *format,
                  "torchscript (model.pt) | hf (config.json + model.safetensors in the Hugging Face layout of a "
                  "student imported with import-hf)")
      ->capture_default_str();
  auto* level_option = cmd->add_option("--level", *level,
                  "Sparsity level to export, for a job with sparsity.levels (e.g. 0.7); default: the densest");
  cmd->callback([checkpoint, out, format, level, level_option, &run] {
    const std::optional<double> at = level_option->count() ? std::optional<double>(*level) : std::nullopt;
    run = [checkpoint, out, format, at] {
      const auto summary = checkpoint::exportStudent(*checkpoint, *out, *format, at);
      std::printf("exported %s: sparsity %.4f of masked parameters, %.4f of all parameters\n",
                  summary.out_dir.c_str(), summary.pruned_sparsity, summary.total_sparsity);
      if (!summary.note.empty()) std::printf("%s\n", summary.note.c_str());
      if (summary.structured)
        std::printf("removed pruned heads and neurons: %lld -> %lld parameters (distill inspect %s)\n",
                    static_cast<long long>(summary.parameters_before), static_cast<long long>(summary.parameters_after),
                    summary.out_dir.c_str());
      return 0;
    };
  });
}

}  // namespace distill::cli
