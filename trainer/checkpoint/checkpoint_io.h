// The workers' half of a checkpoint: tensors and trainer state into a staging
// directory; the coordinator commits it (coordinator/checkpoint_commit.h).
// Layout in common/checkpoint_layout.h; docs/checkpoints.md for users.
//
//   TrainerCheckpoint ckpt{params, &optimizer, &pruner, step, student_module, seed};
//   writeCheckpoint(stagingDir, worker, ckpt);   // worker 0 writes the model
//   readCheckpoint(committedDir, worker, num_workers, ckpt);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json_fwd.hpp>

#include "trainer/sparsity/named_tensor.h"

namespace distill::optim {
class AdamW;
}
namespace distill::sparsity {
class Pruner;
}

namespace distill::kd {
class SnapshotTeachers;
}

namespace distill::checkpoint {

struct TrainerCheckpoint {
  std::vector<sparsity::NamedTensor> params;  // the student's parameters, in place
  optim::AdamW* optimizer = nullptr;
  sparsity::Pruner* pruner = nullptr;         // masks, criterion and gradient-mask state; may be null
  uint64_t step = 0;                          // optimizer steps done
  std::string student_module;                 // the student's architecture, relative to the run directory
  uint64_t seed = 0;                          // job seed: reseeds a worker the checkpoint has no RNG state for
  std::vector<sparsity::NamedTensor> projections;  // distill.terms' projections, in place; may be empty
  kd::SnapshotTeachers* snapshots = nullptr;      // distill.snapshot_teachers (CAP); may be null
  // ZeRO-1: `optimizer` holds this worker's share only, and each worker writes its own file.
  bool sharded_optimizer = false;
  // The worker's device: on a GPU its CUDA generator (dropout there) is saved and restored too.
  c10::Device device = c10::Device(c10::DeviceType::CPU);
};

// Worker 0 writes model, optimizer, masks, projections and trainer.json; every worker writes its RNG state
// (CPU generator, and its GPU's generator when it computes on one)
// (and, with a sharded optimizer, the moments it owns).
void writeCheckpoint(const std::string& dir, int worker, const TrainerCheckpoint& ckpt);
// Loads a committed checkpoint into `ckpt` (in place), with this worker's RNG
// state; a worker the checkpoint has none for (the job was resumed on more
// workers) seeds its generator from (seed, worker, step). Errors name the file
// and tensor.
void readCheckpoint(const std::string& dir, int worker, TrainerCheckpoint& ckpt);

// The sparsity.levels a checkpoint's trainer.json records (empty: trained
// without levels). Errors name `file` (the trainer.json) when the list is malformed.
std::vector<double> savedLevels(const nlohmann::json& trainer_state, const std::string& file);

}  // namespace distill::checkpoint
