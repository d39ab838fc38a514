#include "trainer/checkpoint/export.h"

#include <cmath>
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "common/checkpoint_layout.h"
#include "common/error.h"
#include "common/files.h"
#include "common/json_file.h"
#include "common/log.h"
#include "trainer/checkpoint/checkpoint_io.h"
#include "trainer/checkpoint/export_report.h"
#include "trainer/checkpoint/structured_export.h"
#include "trainer/data/tensor_io.h"
#include "trainer/model/hf/hf_export.h"
#include "trainer/model/model_io.h"
#include "trainer/non_finite.h"
#include "trainer/sparsity/sparsity_levels.h"
#include "trainer/sparsity/structure_groups.h"

namespace distill::checkpoint {
namespace fs = std::filesystem;
namespace layout = checkpoint_layout;

namespace {

// Cuts the zero heads and neurons out of a built-in student when the run
// pruned whole heads or neurons; otherwise says why nothing was cut.
StructuredRemoval removeStructure(torch::jit::Module& module, const SparsitySettings& settings,
                                  const std::string& module_file) {
  StructuredRemoval removal;
  if (!settings.structured()) {
    removal.note = "granularity " + settings.granularity + ": only heads and neurons are removed physically";
    return removal;
  }
  if (!module.hasattr("distill_arch")) {
    removal.note = "not a built-in architecture: heads and neurons are only masked";
    return removal;
  }
  if (module.attr("distill_arch").toStringRef().rfind("hf-", 0) == 0) {
    removal.note = "an imported Hugging Face model: heads and neurons stay in the TorchScript export (masked); "
                   "--format hf cuts FFN neurons pruned whole when every layer lost the same number";
    return removal;
  }
  if (!supportsStructuredRemoval(module)) {
    removal.note = "the student module predates structured export: heads and neurons are only masked";
    log::warn(module_file, ": written before structured export existed; exporting with masks only "
              "(write the student again with distill init-model to get heads and neurons removed)");
    return removal;
  }
  StructuredExport cut = removeZeroUnits(module, sparsity::builtinGroups(module));
  module = cut.module;
  removal.applied = true;
  removal.parameters_before = cut.parameters_before;
  removal.parameters_after = cut.parameters_after;
  removal.groups = std::move(cut.groups);
  return removal;
}

int64_t countZeros(const torch::Tensor& t) { return (t == 0).sum().item<int64_t>(); }

// A model file rather than a checkpoint (an import-hf output, a one-shot pruned
// model): only --format hf has something to do.
ExportSummary exportModelFile(const std::string& model_file, const std::string& out_dir, const std::string& format) {
  DISTILL_CHECK(format == "hf", model_file, ": a model file is already TorchScript; export --format torchscript "
                "takes a checkpoint directory (--format hf writes a model file in the Hugging Face layout)");
  auto module = model::loadModel(model_file);
  module.eval();
  trainer::checkFinite(model::namedParameters(module), model_file + " (not exported)");
  int64_t zeros = 0, total = 0;
  for (const auto& p : model::namedParameters(module)) {
    zeros += countZeros(p.tensor);
    total += p.tensor.numel();
  }
  files::makeDirs(out_dir);
  const model::hf::HfExportSummary hf = model::hf::writeHfCheckpoint(module, out_dir);
  ExportSummary summary;
  summary.format = format;
  summary.out_dir = out_dir;
  summary.note = hf.note;
  if (hf.ffn_width_after < hf.ffn_width_before) {
    summary.note = "FFN width " + std::to_string(hf.ffn_width_before) + " -> " + std::to_string(hf.ffn_width_after) +
                   " (neurons pruned whole in every layer removed)";
  }
  summary.total_sparsity = summary.pruned_sparsity = total ? static_cast<double>(zeros) / total : 0;
  summary.parameters_before = summary.parameters_after = total;
  return summary;
}

}  // namespace

namespace {

// sparsity.levels: the masks of the level `level` names, from masks.safetensors
// (level 0) or sparsity_state.safetensors ("level-<i>/<parameter>").
std::map<std::string, torch::Tensor> levelMasks(const fs::path& dir, const nlohmann::json& trainer_state,
                                                std::map<std::string, torch::Tensor> base, double level) {
  const std::string trainer_file = (dir / layout::kTrainerStateFile).string();
  const std::vector<double> levels = savedLevels(trainer_state, trainer_file);
  DISTILL_CHECK(!levels.empty(), "--level ", level, ": ", trainer_file,
                " has no sparsity levels (the job ran without sparsity.levels)");
  size_t index = levels.size();
  std::string known;
  for (size_t i = 0; i < levels.size(); ++i) {
    if (std::abs(levels[i] - level) < 1e-9) index = i;
    known += (i ? ", " : "") + nlohmann::json(levels[i]).dump();
  }
  DISTILL_CHECK(index < levels.size(), "--level ", level, ": not a level of ", dir.string(), " (its levels: ", known,
                ")");
  if (index == 0) return base;
  const std::string state_file = (dir / layout::kSparsityStateFile).string();
  DISTILL_CHECK(files::exists(state_file), state_file, ": missing: the level masks of sparsity.levels live there");
  const auto state = data::loadTensors(state_file);
  for (auto& [name, mask] : base) {
    const std::string key = sparsity::levelMaskName(index, name);
    const auto it = state.find(key);
    DISTILL_CHECK(it != state.end(), state_file, ": no tensor \"", key, "\" for level ", level);
    DISTILL_CHECK(it->second.sizes() == mask.sizes(), state_file, ": tensor \"", key, "\" has shape ",
                  it->second.sizes(), ", masks.safetensors has ", mask.sizes());
    mask = it->second;
  }
  return base;
}

}  // namespace

ExportSummary exportStudent(const std::string& checkpoint_dir, const std::string& out_dir, const std::string& format,
                            std::optional<double> level) {
  DISTILL_CHECK(format == "torchscript" || format == "hf", "export: --format must be torchscript or hf, got \"", format,
                "\"");
  if (fs::is_regular_file(checkpoint_dir)) {
    DISTILL_CHECK(!level, "--level: ", checkpoint_dir, " is a model file; levels come from a checkpoint of a job "
                  "with sparsity.levels");
    return exportModelFile(checkpoint_dir, out_dir, format);
  }
  DISTILL_CHECK(fs::is_directory(checkpoint_dir), checkpoint_dir, ": no such checkpoint directory or model file");
  const fs::path dir = fs::canonical(checkpoint_dir);
  DISTILL_CHECK(files::exists((dir / layout::kStateFile).string()), checkpoint_dir,
                " is not a committed checkpoint (no ", layout::kStateFile, ")");
  layout::verifyFiles(dir.string());
  const JsonFile state((dir / layout::kTrainerStateFile).string());
  const SparsitySettings settings = sparsitySettings(state.json());
  // <run_dir>/checkpoints/step-N/ -> <run_dir>/<student module>
  const std::string module_file = (dir.parent_path().parent_path() / state.get<std::string>("student_module")).string();
  auto module = model::loadModel(module_file);
  module.eval();

  const auto weights = data::loadTensors((dir / layout::kModelFile).string());
  std::vector<sparsity::NamedTensor> named;
  for (const auto& [name, tensor] : weights) named.push_back({name, tensor});
  trainer::checkFinite(named, (dir / layout::kModelFile).string() + " (not exported)");
  std::map<std::string, torch::Tensor> masks;
  if (files::exists((dir / layout::kMasksFile).string())) masks = data::loadTensors((dir / layout::kMasksFile).string());
  if (level) masks = levelMasks(dir, state.json(), std::move(masks), *level);

  // W*M into the module: the masked model, which the export must compute exactly.
  std::map<std::string, ParameterSparsity> records;
  torch::NoGradGuard no_grad;
  for (auto& p : model::namedParameters(module)) {
    auto it = weights.find(p.name);
    DISTILL_CHECK(it != weights.end(), (dir / layout::kModelFile).string(), ": no tensor \"", p.name, "\" for ",
                  module_file);
    torch::Tensor w = it->second.to(p.tensor.dtype());
    auto m = masks.find(p.name);
    if (m != masks.end()) w = w * m->second.to(w.dtype());  // W*M is the weight the model computes with
    p.tensor.copy_(w);
    records[p.name] = {p.name, {}, w.sizes().vec(), 0, m != masks.end()};
  }

  const StructuredRemoval removal = removeStructure(module, settings, module_file);

  std::vector<ParameterSparsity> params;
  std::vector<std::pair<std::string, torch::Tensor>> exported;
  for (const auto& p : model::namedParameters(module)) {
    ParameterSparsity record = records.at(p.name);
    record.shape = p.tensor.sizes().vec();
    record.zeros = countZeros(p.tensor);
    record.pattern_2_4 = follows2of4(p.tensor.detach());
    params.push_back(record);
    exported.emplace_back(p.name, p.tensor.detach().contiguous());
  }

  files::makeDirs(out_dir);
  const fs::path out = out_dir;
  ExportSummary summary;
  summary.format = format;
  if (format == "hf") {
    const model::hf::HfExportSummary hf = model::hf::writeHfCheckpoint(module, out_dir);
    summary.note = hf.note;
    if (hf.ffn_width_after < hf.ffn_width_before) {
      summary.note = "FFN width " + std::to_string(hf.ffn_width_before) + " -> " + std::to_string(hf.ffn_width_after) +
                     " (neurons pruned whole in every layer removed)";
    }
  } else {
    module.save((out / "model.pt").string());
    data::saveTensors((out / "model.safetensors").string(), exported, {{"format", "pt"}});
  }
  nlohmann::json report = sparsityReport(dir.string(), state.get<uint64_t>("step"), settings, params, removal);
  if (level) report["level"] = *level;
  files::writeFileAtomic((out / "sparsity_report.json").string(), report.dump(2) + "\n");

  summary.out_dir = out_dir;
  summary.total_sparsity = report.at("total_sparsity").get<double>();
  summary.pruned_sparsity = report.at("masked_sparsity").get<double>();
  summary.structured = removal.applied;
  summary.parameters_before = removal.applied ? removal.parameters_before : report.at("total_parameters").get<int64_t>();
  summary.parameters_after = report.at("exported_parameters").get<int64_t>();
  return summary;
}

}  // namespace distill::checkpoint
