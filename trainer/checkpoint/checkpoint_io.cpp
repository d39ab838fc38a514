#include "trainer/checkpoint/checkpoint_io.h"

#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/checkpoint_layout.h"
#include "common/error.h"
#include "common/files.h"
#include "common/log.h"
#include "trainer/data/tensor_io.h"
#include "trainer/optim/adamw.h"
#include "trainer/sparsity/mask_set.h"

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

}  // namespace

void writeCheckpoint(const std::string& dir, int worker, const TrainerCheckpoint& ckpt) {
  files::makeDirs(dir);
  if (worker == 0) {
    data::saveTensors(at(dir, layout::kModelFile), pairs(ckpt.params));
    data::saveTensors(at(dir, layout::kOptimizerFile), pairs(ckpt.optimizer->stateTensors()));
    if (ckpt.masks) data::saveTensors(at(dir, layout::kMasksFile), pairs(ckpt.masks->masks()));
    const nlohmann::json state = {
        {"step", ckpt.step},
        {"optimizer_steps", ckpt.optimizer->stepCount()},
        {"student_module", ckpt.student_module},
        {"sparsity", ckpt.masks ? ckpt.masks->sparsity() : 0.0},
    };
    files::writeFileAtomic(at(dir, layout::kTrainerStateFile), state.dump(2) + "\n");
  }
  const torch::Tensor rng = at::detail::getDefaultCPUGenerator().get_state();
  data::saveTensors(at(dir, layout::rngFile(worker)), {{"cpu_generator", rng}});
}

void readCheckpoint(const std::string& dir, int worker, int num_workers, uint64_t seed, TrainerCheckpoint& ckpt) {
  const std::string trainer_file = at(dir, layout::kTrainerStateFile);
  nlohmann::json state;
  try {
    state = nlohmann::json::parse(files::readFile(trainer_file));
  } catch (const nlohmann::json::exception& e) {
    DISTILL_FAIL(trainer_file, ": ", e.what());
  }
  ckpt.step = state.at("step").get<uint64_t>();
  copyInto(at(dir, layout::kModelFile), data::loadTensors(at(dir, layout::kModelFile)), ckpt.params);
  ckpt.optimizer->loadState(data::loadTensors(at(dir, layout::kOptimizerFile)),
                            state.at("optimizer_steps").get<int64_t>());
  if (ckpt.masks) {
    const std::string masks_file = at(dir, layout::kMasksFile);
    DISTILL_CHECK(files::exists(masks_file), masks_file,
                  ": missing: the checkpoint was written without sparsity, the config enables it");
    copyInto(masks_file, data::loadTensors(masks_file), ckpt.masks->masks());
  }
  // The coordinator's ledger says how many workers wrote the checkpoint.
  const auto ledger = nlohmann::json::parse(files::readFile(at(dir, layout::kStateFile)));
  const int written_by = ledger.value("num_workers", -1);
  if (written_by == num_workers) {
    const std::string rng_file = at(dir, layout::rngFile(worker));
    at::Generator generator = at::detail::getDefaultCPUGenerator();  // shares the global generator
    generator.set_state(data::loadTensors(rng_file).at("cpu_generator"));
  } else {
    if (worker == 0)
      log::warn("checkpoint ", dir, " was written by ", written_by, " workers, this run has ", num_workers,
                ": reseeding dropout from the step");
    torch::manual_seed(seed + 1000003ULL * (ckpt.step + 1) + static_cast<uint64_t>(worker));
  }
}

}  // namespace distill::checkpoint
