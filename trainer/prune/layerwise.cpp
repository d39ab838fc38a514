#include "trainer/prune/layerwise.h"

#include <cmath>

#include "common/error.h"

namespace distill::prune {
namespace {

// The input of each linear layer of a built-in block (transformer_body.cpp's
// forward, stopped at every torch.linear), defined on the block class at
// prune time so that models saved by any version can be pruned.
constexpr const char* kLinearInputs = R"TS(
def linear_inputs(self, x: Tensor, allowed: Tensor) -> List[Tensor]:
    B = x.size(0)
    T = x.size(1)
    h = torch.layer_norm(x.float(), [self.d_model], self.ln1_weight.float(), self.ln1_bias.float(), 1e-5).to(x.dtype)
    qkv = torch.linear(h, self.qkv_weight, self.qkv_bias)
    qkv = qkv.view(B, T, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
    scores = torch.matmul(qkv[0], qkv[1].transpose(-2, -1)) * self.scale
    scores = scores.masked_fill(allowed.logical_not(), -10000.0)
    probs = torch.softmax(scores, -1) * allowed.to(scores.dtype)
    context = torch.matmul(probs, qkv[2]).transpose(1, 2).reshape(B, T, self.num_heads * self.head_dim)
    x = x + torch.linear(context, self.out_weight, self.out_bias)
    h2 = torch.layer_norm(x.float(), [self.d_model], self.ln2_weight.float(), self.ln2_bias.float(), 1e-5).to(x.dtype)
    g = torch.gelu(torch.linear(h2, self.ff1_weight, self.ff1_bias))
    return [h, context, h2, g]
)TS";
const char* const kLinears[] = {"qkv_weight", "out_weight", "ff1_weight", "ff2_weight"};

std::string archOf(torch::jit::Module& model) {
  return model.hasattr("distill_arch") ? model.attr("distill_arch").toStringRef() : "";
}

}  // namespace

void checkPrunable(torch::jit::Module& model, const std::string& path, const data::DatasetManifest& calibration) {
  const std::string arch = archOf(model);
  DISTILL_CHECK(arch == "decoder-lm" || arch == "encoder-classifier", path,
                ": distill prune prunes the built-in architectures (decoder-lm, encoder-classifier; distill init-model); "
                "this model is ", arch.empty() ? "not one of them" : "a " + arch);
  const int64_t vocab = model.attr("vocab_size").toInt(), max_len = model.attr("max_len").toInt();
  DISTILL_CHECK(calibration.vocab_size <= 0 || calibration.vocab_size == vocab, "--calibration ", calibration.dir,
                ": its vocabulary has ", calibration.vocab_size, " entries, the model ", path, " has ", vocab);
  DISTILL_CHECK(calibration.seq_len <= max_len, "--calibration ", calibration.dir, ": sequences of ",
                calibration.seq_len, " tokens, longer than the model's max_len ", max_len, " (", path, ")");
}

LayerwiseReport pruneLayerwise(torch::jit::Module& model, const data::ShardedDataset& calibration,
                               const std::vector<uint64_t>& samples, const LayerwiseOptions& options,
                               const Collective& collective, const std::function<void(const std::string&)>& progress) {
  c10::InferenceMode inference;
  model.eval();
  const int64_t layers = model.attr("num_layers").toInt();
  // The calibration activations at the current block's input, batch by batch.
  std::vector<torch::Tensor> x, allowed, real;
  for (size_t begin = 0; begin < samples.size(); begin += static_cast<size_t>(options.batch_size)) {
    const std::vector<uint64_t> ids(samples.begin() + static_cast<long>(begin),
                                    samples.begin() + static_cast<long>(std::min(samples.size(), begin + options.batch_size)));
    const data::Batch batch = calibration.gather(ids);
    x.push_back(model.run_method("embed", batch.input_ids).toTensor());
    allowed.push_back(model.run_method("attention_allowed", batch.attention_mask).toTensor());
    real.push_back(batch.attention_mask.ne(0).reshape({-1}));
  }
  LayerwiseReport report;
  const bool gram = options.method == "sparsegpt";
  for (int64_t i = 0; i < layers; ++i) {
    torch::jit::Module block = model.attr("layer" + std::to_string(i)).toModule();
    if (!block.find_method("linear_inputs")) block.define(kLinearInputs);
    std::vector<LayerStatistics> stats;
    std::vector<torch::Tensor> weights;
    for (const char* name : kLinears) {
      weights.push_back(block.attr(name).toTensor());
      stats.emplace_back(weights.back().size(1), gram);
      checkFits(options.pattern, weights.back(), "layer" + std::to_string(i) + "." + name);
    }
    // Outputs of every linear before pruning, for the relative error below.
    std::vector<std::vector<torch::Tensor>> inputs(x.size());
    for (size_t b = 0; b < x.size(); ++b) {
      const auto list = block.run_method("linear_inputs", x[b], allowed[b]).toTensorList();
      for (size_t k = 0; k < 4; ++k) {
        const torch::Tensor rows = list.get(k).reshape({-1, list.get(k).size(-1)}).index({real[b]});
        stats[k].add(rows);
        inputs[b].push_back(rows);
      }
    }
    for (size_t k = 0; k < 4; ++k) {
      torch::Tensor tokens = torch::tensor({static_cast<double>(stats[k].tokens)}, torch::kFloat64);
      collective.sum(stats[k].sq_norms);
      if (gram) collective.sum(stats[k].gram);
      collective.sum(tokens);
      stats[k].tokens = static_cast<int64_t>(tokens.item<double>());
      const std::string name = "layer" + std::to_string(i) + "." + kLinears[k];
      torch::Tensor pruned;
      if (collective.root) {
        const Pruned p = options.method == "sparsegpt" ? pruneSparseGpt(weights[k], stats[k], options.pattern, options.sparsegpt)
                         : options.method == "wanda"   ? pruneWanda(weights[k], stats[k], options.pattern)
                                                       : pruneMagnitude(weights[k], options.pattern);
        pruned = p.weight.contiguous();
      } else {
        pruned = torch::empty_like(weights[k], torch::kFloat).contiguous();
      }
      collective.broadcast(pruned);
      double before = 0, diff = 0;
      for (const auto& in : inputs) {
        const torch::Tensor y = torch::linear(in[k].to(torch::kFloat), weights[k].to(torch::kFloat));
        before += y.square().sum().item<double>();
        diff += (y - torch::linear(in[k].to(torch::kFloat), pruned)).square().sum().item<double>();
      }
      torch::Tensor errors = torch::tensor({before, diff}, torch::kFloat64);
      collective.sum(errors);
      weights[k].copy_(pruned.to(weights[k].dtype()));
      PrunedLayer l{name, pruned.ne(0).to(torch::kFloat64).mean().item<double>(),
                    std::sqrt(errors[1].item<double>() / std::max(errors[0].item<double>(), 1e-300))};
      report.layers.push_back(l);
    }
    report.tokens = stats[0].tokens;
    for (size_t b = 0; b < x.size(); ++b) {
      x[b] = block.forward({x[b], allowed[b]}).toTupleRef().elements()[0].toTensor();
    }
    double mean_error = 0;
    for (size_t k = 0; k < 4; ++k) mean_error += report.layers[report.layers.size() - 4 + k].relative_error / 4;
    progress("layer" + std::to_string(i) + ": 4 linear layers pruned to " + options.pattern.describe() +
             ", mean relative output error " + std::to_string(mean_error));
  }
  return report;
}

}  // namespace distill::prune
