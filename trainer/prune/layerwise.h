// `distill prune`'s pass over a model: block by block, the calibration
// samples' inputs to every linear layer of the block are summed into
// LayerStatistics (on every rank over its own samples, then summed across
// ranks), each layer is pruned by the chosen method, and the calibration
// activations move on through the pruned block, so every block is pruned
// against the outputs of the already-pruned blocks before it (as SparseGPT
// and Wanda do). The architecture enters only through PrunableBlocks
// (prunable_blocks.h). The reported output error of a layer comes from its
// inputs' Gram, so no activation but the blocks' hidden states is kept.
//
//   auto blocks = prune::prunableBlocks(model, path, calibration.manifest());
//   Collective c{sum, broadcast, /*root=*/rank == 0};
//   auto report = prune::pruneLayerwise(model, blocks, calibration, my_samples, options, c, log);
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <torch/script.h>

#include "trainer/data/dataset.h"
#include "trainer/prune/one_shot.h"
#include "trainer/prune/prunable_blocks.h"

namespace distill::prune {

struct LayerwiseOptions {
  std::string method;  // "sparsegpt", "wanda" or "magnitude"
  Pattern pattern;
  int64_t batch_size = 8;
  SparseGptOptions sparsegpt;
};

// How ranks combine: `sum` adds a float64 tensor over every rank in place;
// `broadcast` gives every rank the root's float32 tensor; the root prunes.
struct Collective {
  std::function<void(torch::Tensor&)> sum = [](torch::Tensor&) {};
  std::function<void(torch::Tensor&)> broadcast = [](torch::Tensor&) {};
  bool root = true;
};

// This rank's calibration samples in batches of `batch_size`, as block 0's
// arguments (hidden states first) and, per batch, which of its [B*T] token
// rows are real (not padding). Shared with `distill moefy` (trainer/moe/).
struct CalibrationBatches {
  std::vector<std::vector<c10::IValue>> args;
  std::vector<torch::Tensor> real;
};
CalibrationBatches calibrationBatches(const PrunableBlocks& blocks, const data::ShardedDataset& calibration,
                                      const std::vector<uint64_t>& samples, int64_t batch_size);

struct PrunedLayer {
  std::string name;          // parameter name, e.g. "layer0.qkv_weight", "layer3.gate_weight"
  double density = 1;        // fraction kept
  double relative_error = 0; // ||W X - W' X|| / ||W X|| over the calibration inputs
};

struct LayerwiseReport {
  std::vector<PrunedLayer> layers;
  int64_t tokens = 0;  // calibration tokens, over every rank
};

// Prunes `model`'s block linear layers in place; `samples`: this rank's
// calibration sample ids. `progress` gets one line per block.
LayerwiseReport pruneLayerwise(torch::jit::Module& model, const PrunableBlocks& blocks,
                               const data::ShardedDataset& calibration,
                               const std::vector<uint64_t>& samples, const LayerwiseOptions& options,
                               const Collective& collective, const std::function<void(const std::string&)>& progress);

}  // namespace distill::prune
