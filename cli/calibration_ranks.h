// What `distill prune` and `distill moefy` share: a pass over calibration
// data that runs alone or under mpirun. Every rank takes every size-th
// calibration sample (rank r: r, r + size, ...); the body sums statistics
// over ranks and broadcasts the root's decisions through `collective`. Bad
// input (distill::Error) exits kExitBadInput, anything else 1; under mpirun
// either aborts every rank, so no rank waits on a collective its peer left.
//
//   return runOnRanks("prune", threads, [&](const CalibrationRanks& ranks) {
//     auto mine = ranks.samples(total, "--calibration " + dir);
//     ... ranks.collective.sum(stats) ...; if (ranks.root()) write the output;
//   });
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/script.h>

#include "trainer/prune/layerwise.h"

namespace distill::cli {

struct CalibrationRanks {
  int rank = 0, size = 1;
  prune::Collective collective;  // MPI_Allreduce (sum, float64), MPI_Bcast from rank 0 (float32)
  bool root() const { return rank == 0; }
  // This rank's ids among the first `total` samples; distill::Error naming
  // `what` when some rank would get none.
  std::vector<uint64_t> samples(uint64_t total, const std::string& what) const;
  // Adds a float64 tensor over ranks in place (the same as collective.sum).
  void sum(torch::Tensor& t) const { collective.sum(t); }
};

int runOnRanks(const std::string& command, int threads, const std::function<void(const CalibrationRanks&)>& body);

// What both write on rank 0: DIR/model.pt (atomically: written beside, then
// renamed) and DIR/model.safetensors (its parameters and buffers by name).
void writeModel(const std::string& dir, torch::jit::Module& module);

}  // namespace distill::cli
