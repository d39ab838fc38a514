// Where the parts of a checkpoint live. Shared by the coordinator (which commits)
// and the workers (which write the tensors); see docs/checkpoints.md.
//
//   <run_dir>/checkpoints/step-00000020.staging/   being written by the workers
//   <run_dir>/checkpoints/step-00000020/           committed (renamed by the coordinator)
//   <run_dir>/checkpoints/latest -> step-00000020  the newest committed checkpoint
//
// A committed directory holds model.safetensors, optimizer.safetensors,
// masks.safetensors and trainer.json (written by worker 0), rng-worker-<w>.safetensors
// (one per worker; with runtime.zero_stage 1 also optimizer-worker-<w>.safetensors
// instead of optimizer.safetensors) and state.json (the coordinator's ledger, written last,
// with the sha256 of every other file: resume and export verify them).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace distill::checkpoint_layout {

std::string root(const std::string& run_dir);                        // <run_dir>/checkpoints
std::string stepName(uint64_t step);                                 // step-00000020
std::string stagingDir(const std::string& run_dir, uint64_t step);
std::string committedDir(const std::string& run_dir, uint64_t step);
std::string latestLink(const std::string& run_dir);
// The committed checkpoint `latest` points at, if there is one.
std::optional<std::string> latest(const std::string& run_dir);
// Reads the step recorded in <dir>/state.json; distill::Error naming the file if absent or bad.
uint64_t committedStep(const std::string& dir);

// The sha256 of every file in a staging directory but state.json, for the
// "files" field of state.json (the coordinator records it at commit).
std::map<std::string, std::string> fileDigests(const std::string& dir);
// Checks every file state.json's "files" lists against its sha256:
// distill::Error naming the file when one is missing, changed or damaged since
// the commit. Checkpoints committed before the field existed pass unchecked.
void verifyFiles(const std::string& dir);

inline constexpr const char* kModelFile = "model.safetensors";
inline constexpr const char* kOptimizerFile = "optimizer.safetensors";
inline constexpr const char* kMasksFile = "masks.safetensors";
// Criterion scores, PST factors, learned scores, Child-Tuning state (sparsity/pruner.h).
inline constexpr const char* kSparsityStateFile = "sparsity_state.safetensors";
// The learned projections of the intermediate terms (trainer/distill/projection.h):
// trained with the student, resumed from here, never exported.
inline constexpr const char* kProjectionsFile = "projections.safetensors";
// distill.snapshot_teachers (CAP): the pre-trained student and the newest snapshots
// (trainer/distill/snapshot_teachers.h), so a resumed run has the same teachers.
inline constexpr const char* kSnapshotTeachersFile = "snapshot_teachers.safetensors";
inline constexpr const char* kTrainerStateFile = "trainer.json";
inline constexpr const char* kStateFile = "state.json";
std::string rngFile(int worker);                                     // rng-worker-<w>.safetensors
// ZeRO-1: the AdamW moments of the parameters worker <w> owns (optimizer-worker-<w>.safetensors),
// in place of kOptimizerFile; tensors are named by parameter, so any worker count can read them.
std::string optimizerShardFile(int worker);
inline constexpr const char* kOptimizerShardPrefix = "optimizer-worker-";

}  // namespace distill::checkpoint_layout
