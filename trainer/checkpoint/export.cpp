#include "trainer/checkpoint/export.h"

#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "common/checkpoint_layout.h"
#include "common/error.h"
#include "common/files.h"
#include "common/json_file.h"
#include "trainer/data/tensor_io.h"
#include "trainer/model/model_io.h"

namespace distill::checkpoint {
namespace fs = std::filesystem;
namespace layout = checkpoint_layout;

ExportSummary exportStudent(const std::string& checkpoint_dir, const std::string& out_dir) {
  DISTILL_CHECK(fs::is_directory(checkpoint_dir), checkpoint_dir, ": no such checkpoint directory");
  const fs::path dir = fs::canonical(checkpoint_dir);
  DISTILL_CHECK(files::exists((dir / layout::kStateFile).string()), checkpoint_dir,
                " is not a committed checkpoint (no ", layout::kStateFile, ")");
  const JsonFile state((dir / layout::kTrainerStateFile).string());
  // <run_dir>/checkpoints/step-N/ -> <run_dir>/<student module>
  const std::string module_file = (dir.parent_path().parent_path() / state.get<std::string>("student_module")).string();
  auto module = model::loadModel(module_file);
  module.eval();

  const auto weights = data::loadTensors((dir / layout::kModelFile).string());
  std::map<std::string, torch::Tensor> masks;
  if (files::exists((dir / layout::kMasksFile).string())) masks = data::loadTensors((dir / layout::kMasksFile).string());

  nlohmann::json params = nlohmann::json::array();
  std::vector<std::pair<std::string, torch::Tensor>> exported;
  double zeros = 0, total = 0, pruned_zeros = 0, pruned_total = 0;
  torch::NoGradGuard no_grad;
  for (auto& p : model::namedParameters(module)) {
    auto it = weights.find(p.name);
    DISTILL_CHECK(it != weights.end(), (dir / layout::kModelFile).string(), ": no tensor \"", p.name, "\" for ",
                  module_file);
    torch::Tensor w = it->second.to(p.tensor.dtype());
    auto m = masks.find(p.name);
    if (m != masks.end()) w = w * m->second.to(w.dtype());  // W*M is the weight the model computes with
    p.tensor.copy_(w);
    const double n = static_cast<double>(w.numel());
    const double z = static_cast<double>((w == 0).sum().item<int64_t>());
    zeros += z;
    total += n;
    if (m != masks.end()) {
      pruned_zeros += z;
      pruned_total += n;
    }
    params.push_back({{"name", p.name},
                      {"shape", w.sizes().vec()},
                      {"numel", w.numel()},
                      {"zeros", static_cast<int64_t>(z)},
                      {"density", 1.0 - z / n},
                      {"masked", m != masks.end()},
                      {"granularity", m != masks.end() ? "unstructured" : "dense"}});
    exported.emplace_back(p.name, w.contiguous());
  }

  files::makeDirs(out_dir);
  const fs::path out = out_dir;
  module.save((out / "model.pt").string());
  data::saveTensors((out / "model.safetensors").string(), exported, {{"format", "pt"}});
  ExportSummary summary{out_dir, total > 0 ? zeros / total : 0.0,
                        pruned_total > 0 ? pruned_zeros / pruned_total : 0.0};
  const nlohmann::json report = {
      {"checkpoint", dir.string()},
      {"step", state.get<uint64_t>("step")},
      {"total_parameters", static_cast<int64_t>(total)},
      {"total_zeros", static_cast<int64_t>(zeros)},
      {"total_sparsity", summary.total_sparsity},
      {"masked_parameters", static_cast<int64_t>(pruned_total)},
      {"masked_sparsity", summary.pruned_sparsity},
      {"parameters", params},
  };
  files::writeFileAtomic((out / "sparsity_report.json").string(), report.dump(2) + "\n");
  return summary;
}

}  // namespace distill::checkpoint
