#include "trainer/prune/layerwise.h"

#include <cmath>

#include "common/error.h"

namespace distill::prune {
namespace {

// ||W X||^2 summed over the calibration tokens, from their Gram G = sum x x^T:
// the trace of W G W^T, so no layer input has to be kept.
double outputEnergy(const torch::Tensor& weight, const torch::Tensor& gram) {
  const torch::Tensor w = weight.to(torch::kFloat64);
  return (torch::mm(w, gram) * w).sum().item<double>();
}

}  // namespace

CalibrationBatches calibrationBatches(const PrunableBlocks& blocks, const data::ShardedDataset& calibration,
                                      const std::vector<uint64_t>& samples, int64_t batch_size) {
  CalibrationBatches out;
  for (size_t begin = 0; begin < samples.size(); begin += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(samples.size(), begin + static_cast<size_t>(batch_size));
    const std::vector<uint64_t> ids(samples.begin() + static_cast<long>(begin), samples.begin() + static_cast<long>(end));
    const data::Batch batch = calibration.gather(ids);
    out.args.push_back(blocks.first_arguments(batch));
    out.real.push_back(batch.attention_mask.ne(0).reshape({-1}));
  }
  return out;
}

LayerwiseReport pruneLayerwise(torch::jit::Module& model, const PrunableBlocks& blocks,
                               const data::ShardedDataset& calibration, const std::vector<uint64_t>& samples,
                               const LayerwiseOptions& options, const Collective& collective,
                               const std::function<void(const std::string&)>& progress) {
  c10::InferenceMode inference;
  model.eval();
  CalibrationBatches batches = calibrationBatches(blocks, calibration, samples, options.batch_size);
  auto& args = batches.args;
  const auto& real = batches.real;
  LayerwiseReport report;
  const size_t count = blocks.linears.size();
  for (int64_t i = 0; i < blocks.layers; ++i) {
    const std::string layer = "layer" + std::to_string(i);
    torch::jit::Module block = model.attr(layer).toModule();
    blocks.define(block);
    std::vector<torch::Tensor> weights;
    for (const auto& l : blocks.linears) {
      weights.push_back(block.attr(l.weight).toTensor());
      checkFits(options.pattern, weights.back(), layer + "." + l.weight);
    }
    // The Gram of every input (also what the reported output error is computed from).
    std::vector<LayerStatistics> stats;
    for (size_t k = 0; k < blocks.inputs; ++k) {
      int64_t width = 0;
      for (size_t j = 0; j < count; ++j) {
        if (blocks.linears[j].input == k) width = weights[j].size(1);
      }
      stats.emplace_back(width, /*with_gram=*/true);
    }
    for (size_t b = 0; b < args.size(); ++b) {
      const auto list = block.get_method("linear_inputs")(args[b]).toTensorList();
      DISTILL_ASSERT(list.size() == blocks.inputs);
      for (size_t k = 0; k < blocks.inputs; ++k) {
        const torch::Tensor in = list.get(k);
        stats[k].add(in.reshape({-1, in.size(-1)}).index({real[b]}));
      }
    }
    for (auto& s : stats) {
      torch::Tensor tokens = torch::tensor({static_cast<double>(s.tokens)}, torch::kFloat64);
      collective.sum(s.sq_norms);
      collective.sum(s.gram);
      collective.sum(tokens);
      s.tokens = static_cast<int64_t>(tokens.item<double>());
    }
    double mean_error = 0;
    for (size_t j = 0; j < count; ++j) {
      const LayerStatistics& s = stats[blocks.linears[j].input];
      torch::Tensor pruned;
      if (collective.root) {
        const Pruned p = options.method == "sparsegpt" ? pruneSparseGpt(weights[j], s, options.pattern, options.sparsegpt)
                         : options.method == "wanda"   ? pruneWanda(weights[j], s, options.pattern)
                                                       : pruneMagnitude(weights[j], options.pattern);
        pruned = p.weight.contiguous();
      } else {
        pruned = torch::empty_like(weights[j], torch::kFloat).contiguous();
      }
      collective.broadcast(pruned);
      const double before = outputEnergy(weights[j], s.gram);
      const double diff = outputEnergy(weights[j].to(torch::kFloat64) - pruned.to(torch::kFloat64), s.gram);
      weights[j].copy_(pruned.to(weights[j].dtype()));
      PrunedLayer l{layer + "." + blocks.linears[j].weight, pruned.ne(0).to(torch::kFloat64).mean().item<double>(),
                    std::sqrt(std::max(diff, 0.0) / std::max(before, 1e-300))};
      mean_error += l.relative_error / static_cast<double>(count);
      report.layers.push_back(l);
    }
    report.tokens = stats[0].tokens;
    for (auto& a : args) a[0] = block.forward(a).toTupleRef().elements()[0];
    progress(layer + ": " + std::to_string(count) + " linear layers pruned to " + options.pattern.describe() +
             ", mean relative output error " + std::to_string(mean_error));
  }
  return report;
}

}  // namespace distill::prune
