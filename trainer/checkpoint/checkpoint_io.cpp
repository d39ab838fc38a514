#include "trainer/checkpoint/checkpoint_io.h"

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/checkpoint_layout.h"
#include "common/error.h"
#include "common/files.h"
#include "common/json_file.h"
#include "common/log.h"
#include "trainer/data/tensor_io.h"
#include "trainer/distill/snapshot_teachers.h"
#include "trainer/non_finite.h"
#include "trainer/optim/adamw.h"
#include "trainer/sparsity/mask_set.h"
#include "trainer/sparsity/pruner.h"
#include "trainer/sparsity/sparsity_levels.h"

namespace distill::checkpoint {
namespace fs = std::filesystem;
namespace layout = checkpoint_layout;

namespace {

std::string at(const std::string& dir, const std::string& file) { return (fs::path(dir) / file).string(); }

std::vector<std::pair<std::string, torch::Tensor>> pairs(const std::vector<sparsity::NamedTensor>& tensors) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  out.reserve(tensors.size());
  for (const auto& t : tensors) out.emplace_back(t.name, t.tensor.detach().contiguous());
  return out;
}

// Copies saved tensors into live ones, by name; every live tensor must be present with its shape.
void copyInto(const std::string& file, const std::map<std::string, torch::Tensor>& saved,
              const std::vector<sparsity::NamedTensor>& live) {
  torch::NoGradGuard no_grad;
  for (const auto& t : live) {
    auto it = saved.find(t.name);
    DISTILL_CHECK(it != saved.end(), file, ": tensor \"", t.name, "\" is missing: the checkpoint is of another model");
    DISTILL_CHECK(it->second.sizes() == t.tensor.sizes(), file, ": tensor \"", t.name, "\" has shape ",
                  it->second.sizes(), ", the model has ", t.tensor.sizes());
    t.tensor.copy_(it->second);
  }
}

// sparsity.levels: a checkpoint's level masks belong to the levels it was
// trained with; other levels (or none) would mislabel them.
void checkSavedLevels(const nlohmann::json& trainer_state, const std::vector<double>& levels, const std::string& file) {
  const std::vector<double> saved = savedLevels(trainer_state, file);
  auto text = [](const std::vector<double>& v) { return v.empty() ? std::string("none") : nlohmann::json(v).dump(); };
  DISTILL_CHECK(saved == levels, file, ": the checkpoint was trained with sparsity levels ", text(saved),
                ", sparsity.levels is ", text(levels), ": resume with the levels it was trained with");
}

}  // namespace

std::vector<double> savedLevels(const nlohmann::json& trainer_state, const std::string& file) {
  std::vector<double> saved;
  const auto spec = trainer_state.find("sparsity_spec");
  if (spec == trainer_state.end() || !spec->is_object() || !spec->contains("levels")) return saved;
  const auto& list = spec->at("levels");
  DISTILL_CHECK(list.is_array(), file, ": sparsity_spec.levels is not a list");
  for (const auto& l : list) {
    DISTILL_CHECK(l.is_number(), file, ": sparsity_spec.levels holds a non-number");
    saved.push_back(l.get<double>());
  }
  return saved;
}

void writeCheckpoint(const std::string& dir, int worker, const TrainerCheckpoint& ckpt) {
  // Never a checkpoint of a non-finite state: the step guards (trainer/non_finite.h)
  // stop NaN before the optimizer; this is the last line.
  const std::string where = "checkpoint of step " + std::to_string(ckpt.step) + " (not written)";
  trainer::checkFinite(ckpt.params, where);
  trainer::checkFinite(ckpt.projections, where);
  trainer::checkFinite(ckpt.optimizer->stateTensors(), where);
  files::makeDirs(dir);
  if (worker == 0) {
    data::saveTensors(at(dir, layout::kModelFile), pairs(ckpt.params));
    if (!ckpt.sharded_optimizer) data::saveTensors(at(dir, layout::kOptimizerFile), pairs(ckpt.optimizer->stateTensors()));
    const sparsity::MaskSet* masks = ckpt.pruner ? ckpt.pruner->masks() : nullptr;
    if (masks) data::saveTensors(at(dir, layout::kMasksFile), pairs(masks->masks()));
    if (ckpt.pruner) data::saveTensors(at(dir, layout::kSparsityStateFile), pairs(ckpt.pruner->state()));
    if (!ckpt.projections.empty()) data::saveTensors(at(dir, layout::kProjectionsFile), pairs(ckpt.projections));
    if (ckpt.snapshots) data::saveTensors(at(dir, layout::kSnapshotTeachersFile), pairs(ckpt.snapshots->state()));
    nlohmann::json state = {
        {"step", ckpt.step},
        {"optimizer_steps", ckpt.optimizer->stepCount()},
        {"student_module", ckpt.student_module},
        {"sparsity", masks ? masks->sparsity() : 0.0},
    };
    if (masks) {
      state["sparsity_spec"] = {{"criterion", ckpt.pruner->criterionName()},
                                {"granularity", masks->granularity().name},
                                {"scope", ckpt.pruner->spec().scope()},
                                {"target", ckpt.pruner->target(static_cast<int64_t>(ckpt.step))}};
      // sparsity.levels: level i > 0's masks are sparsity_state's "level-<i>/<parameter>".
      if (const sparsity::SparsityLevels* levels = ckpt.pruner->levels()) {
        state["sparsity_spec"]["levels"] = levels->levels();
      }
    }
    files::writeFileAtomic(at(dir, layout::kTrainerStateFile), state.dump(2) + "\n");
  }
  if (ckpt.sharded_optimizer) {
    data::saveTensors(at(dir, layout::optimizerShardFile(worker)), pairs(ckpt.optimizer->stateTensors()));
  }
  std::vector<std::pair<std::string, torch::Tensor>> rng{{"cpu_generator", at::detail::getDefaultCPUGenerator().get_state()}};
  if (ckpt.device.is_cuda()) {
    rng.emplace_back("cuda_generator", at::globalContext().defaultGenerator(ckpt.device).get_state());
  }
  data::saveTensors(at(dir, layout::rngFile(worker)), rng);
}

void readCheckpoint(const std::string& dir, int worker, TrainerCheckpoint& ckpt) {
  const JsonFile state(at(dir, layout::kTrainerStateFile));
  ckpt.step = state.get<uint64_t>("step");
  copyInto(at(dir, layout::kModelFile), data::loadTensors(at(dir, layout::kModelFile)), ckpt.params);
  trainer::checkFinite(ckpt.params, at(dir, layout::kModelFile));
  // One whole file, or one shard per worker that wrote it (ZeRO): merged by
  // name, so this worker finds its parameters' moments whatever the sharding
  // was; only the moments this worker's optimizer holds are read.
  std::set<std::string> wanted;
  for (const auto& t : ckpt.optimizer->stateTensors()) wanted.insert(t.name);
  std::map<std::string, torch::Tensor> moments;
  std::string optimizer_files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name != layout::kOptimizerFile && name.rfind(layout::kOptimizerShardPrefix, 0) != 0) continue;
    moments.merge(data::loadTensors(entry.path().string(), wanted));
    optimizer_files += (optimizer_files.empty() ? "" : ", ") + name;
  }
  DISTILL_CHECK(!optimizer_files.empty(), at(dir, layout::kOptimizerFile), ": missing (and no ",
                layout::kOptimizerShardPrefix, "*.safetensors shards): the checkpoint has no optimizer state");
  try {
    ckpt.optimizer->loadState(moments, state.get<int64_t>("optimizer_steps"));
  } catch (const Error& e) {
    DISTILL_FAIL(dir, " (", optimizer_files, "): ", e.what());
  }
  sparsity::MaskSet* masks = ckpt.pruner ? ckpt.pruner->masks() : nullptr;
  if (masks) {
    const std::string masks_file = at(dir, layout::kMasksFile);
    DISTILL_CHECK(files::exists(masks_file), masks_file,
                  ": missing: the checkpoint was written without sparsity, the config enables it");
    copyInto(masks_file, data::loadTensors(masks_file), masks->masks());
  }
  if (!ckpt.projections.empty()) {
    const std::string projections_file = at(dir, layout::kProjectionsFile);
    DISTILL_CHECK(files::exists(projections_file), projections_file,
                  ": missing: the checkpoint was written without intermediate terms that project "
                  "(distill.terms), the config has them");
    copyInto(projections_file, data::loadTensors(projections_file), ckpt.projections);
  }
  if (ckpt.snapshots) {
    const std::string snapshots_file = at(dir, layout::kSnapshotTeachersFile);
    DISTILL_CHECK(files::exists(snapshots_file), snapshots_file,
                  ": missing: the checkpoint was written without distill.snapshot_teachers, the config has them");
    ckpt.snapshots->load(data::loadTensors(snapshots_file), snapshots_file);
  }
  if (const sparsity::SparsityLevels* levels = ckpt.pruner ? ckpt.pruner->levels() : nullptr) {
    checkSavedLevels(state.json(), levels->levels(), at(dir, layout::kTrainerStateFile));
  }
  if (ckpt.pruner) {
    const std::string state_file = at(dir, layout::kSparsityStateFile);
    const auto saved = files::exists(state_file) ? data::loadTensors(state_file) : std::map<std::string, torch::Tensor>{};
    ckpt.pruner->load(saved, state_file);
  }
  const std::string rng_file = at(dir, layout::rngFile(worker));
  if (!files::exists(rng_file)) {
    // Resumed on more workers than wrote the checkpoint: a fresh, distinct stream.
    const uint64_t seed = ckpt.seed + 1000003ULL * static_cast<uint64_t>(worker) + 7919ULL * ckpt.step;
    log::info("worker ", worker, ": ", rng_file, " absent (the checkpoint was written by fewer workers); seeding ",
              "the generator from the job seed, worker and step");
    torch::manual_seed(seed);
    return;
  }
  const auto rng = data::loadTensors(rng_file);
  DISTILL_CHECK(rng.count("cpu_generator"), rng_file, ": no tensor \"cpu_generator\"");
  at::Generator generator = at::detail::getDefaultCPUGenerator();  // shares the global generator
  generator.set_state(rng.at("cpu_generator"));
  if (!ckpt.device.is_cuda()) return;
  at::Generator gpu_generator = at::globalContext().defaultGenerator(ckpt.device);
  if (rng.count("cuda_generator")) {
    gpu_generator.set_state(rng.at("cuda_generator"));
  } else {
    // Written by a CPU job: the GPU's dropout stream starts from the job seed, worker and step.
    log::info("worker ", worker, ": ", rng_file, " has no \"cuda_generator\" (written on a CPU); seeding the GPU's ",
              "generator from the job seed, worker and step");
    gpu_generator.set_current_seed(ckpt.seed + 1000003ULL * static_cast<uint64_t>(worker) + 7919ULL * ckpt.step);
  }
}

}  // namespace distill::checkpoint
