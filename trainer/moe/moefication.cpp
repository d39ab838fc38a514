#include "trainer/moe/moefication.h"

#include <cmath>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>

#include "common/error.h"
#include "trainer/moe/co_activation.h"
#include "trainer/moe/ffn_layout.h"
#include "trainer/prune/prunable_blocks.h"

namespace distill::moe {
namespace {

// Sums (over ranks) of what a layer's report is made of.
struct LayerTotals {
  double routed = 0, best = 0;        // positive activation of the routed / the k best experts
  double error = 0, energy = 0;       // ||FFN - MoE||^2, ||FFN||^2
};

}  // namespace

MoefyReport moefyLayerwise(torch::jit::Module& model, const data::ShardedDataset& calibration,
                           const std::vector<uint64_t>& samples, const MoefyOptions& options,
                           const prune::Collective& collective,
                           const std::function<void(const std::string&)>& progress) {
  DISTILL_CHECK(options.split == "co-activation" || options.split == "random", "--split: \"", options.split,
                "\" is not co-activation or random");
  c10::InferenceMode inference;
  model.eval();
  // The blocks' calibration arguments and linear_inputs method (prune/): the
  // FFN input and its hidden activations are linear_inputs[ffn.input], [+ 1].
  const FfnLayout ffn = ffnLayout(model, "the model");
  const prune::PrunableBlocks blocks = ffn.blocks(model);
  prune::CalibrationBatches batches = prune::calibrationBatches(blocks, calibration, samples, options.batch_size);
  auto& args = batches.args;
  const auto& real = batches.real;
  auto ffnInputs = [&](torch::jit::Module& block, size_t b, torch::Tensor& x, torch::Tensor& hidden) {
    const auto list = block.get_method("linear_inputs")(args[b]).toTensorList();
    const torch::Tensor in = list.get(ffn.input), act = list.get(ffn.input + 1);
    x = in.reshape({-1, in.size(-1)}).index({real[b]});
    hidden = act.reshape({-1, act.size(-1)}).index({real[b]});
  };

  MoefyReport report;
  for (int64_t i = 0; i < model.attr("num_layers").toInt(); ++i) {
    const std::string layer = "layer" + std::to_string(i);
    torch::jit::Module block = model.attr(layer).toModule();
    blocks.define(block);
    const int64_t experts = block.attr("num_experts").toInt(), top_k = block.attr("top_k").toInt();
    const int64_t neurons = moe::neurons(block, ffn);

    // 1. Co-activation, summed over ranks; the root splits, everyone permutes.
    CoActivation stats(neurons);
    for (size_t b = 0; b < args.size(); ++b) {
      torch::Tensor x, hidden;
      ffnInputs(block, b, x, hidden);
      stats.add(ffn.activity(block, x, hidden));
    }
    torch::Tensor tokens = torch::tensor({static_cast<double>(stats.tokens)}, torch::kFloat64);
    collective.sum(stats.counts);
    collective.sum(tokens);
    report.tokens = static_cast<int64_t>(tokens.item<double>());
    stats.tokens = report.tokens;  // now the counts' total too
    torch::Tensor order = torch::empty({neurons}, torch::kFloat);
    MoefiedLayer out{layer, neurons / experts};
    if (collective.root && options.split == "random") {
      auto generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(i + 1));
      order = torch::randperm(neurons, generator, torch::kInt64).to(torch::kFloat).contiguous();
    } else if (collective.root) {
      const std::vector<int64_t> expert = balancedExperts(stats, experts, layer);
      order = expertOrder(expert, experts).to(torch::kFloat).contiguous();
    }
    collective.broadcast(order);
    const torch::Tensor index = order.to(torch::kInt64);
    for (const auto& name : ffn.rows) {
      torch::Tensor t = block.attr(name).toTensor();
      t.copy_(t.index_select(0, index));
    }
    for (const auto& name : ffn.columns) {
      torch::Tensor t = block.attr(name).toTensor();
      t.copy_(t.index_select(1, index));
    }
    {  // expert of neuron index[j] is j / width
      const torch::Tensor onehot = torch::zeros({neurons, experts}, torch::kFloat64)
                                       .index_put_({index, torch::arange(neurons).div(out.expert_width, "floor")}, 1.0);
      const double inside = (torch::mm(stats.counts, onehot) * onehot).sum().item<double>();
      out.co_activation = inside / std::max(stats.counts.sum().item<double>(), 1.0);
    }

    // 2. The router, on the FFN inputs against the experts' shares.
    std::vector<torch::Tensor> inputs, shares;
    for (size_t b = 0; b < args.size(); ++b) {
      torch::Tensor x, hidden;
      ffnInputs(block, b, x, hidden);
      inputs.push_back(x.to(torch::kFloat));
      shares.push_back(expertShares(ffn.magnitude(hidden), experts));
    }
    const Router router = fitRouter(inputs, shares, experts, options.router, collective.sum);
    block.attr("router_weight").toTensor().copy_(router.weight);
    block.attr("router_bias").toTensor().copy_(router.bias);
    out.router_loss = router.loss;

    // What the routed FFN keeps of the dense one, then the hidden states move on.
    torch::Tensor totals = torch::zeros({4}, torch::kFloat64);
    for (size_t b = 0; b < args.size(); ++b) {
      torch::Tensor x, hidden;
      ffnInputs(block, b, x, hidden);
      const torch::Tensor mass = ffn.magnitude(hidden).view({hidden.size(0), experts, out.expert_width}).sum(-1);
      const torch::Tensor scores = block.run_method("router_scores", x).toTensor();  // as the routed FFN scores
      const torch::Tensor routed = std::get<1>(scores.topk(top_k, -1));
      totals[0] += mass.gather(1, routed).sum().item<double>();
      totals[1] += std::get<0>(mass.topk(top_k, -1)).sum().item<double>();
      const torch::Tensor dense = denseOutput(block, ffn, hidden).to(torch::kFloat);
      const torch::Tensor moe = block.run_method("ffn", x).toTensor().to(torch::kFloat);
      totals[2] += (dense - moe).pow(2).sum().item<double>();
      totals[3] += dense.pow(2).sum().item<double>();
      args[b][0] = block.forward(args[b]).toTupleRef().elements()[0];
    }
    collective.sum(totals);
    out.recall = totals[0].item<double>() / std::max(totals[1].item<double>(), 1e-30);
    out.relative_error = std::sqrt(totals[2].item<double>() / std::max(totals[3].item<double>(), 1e-30));
    std::ostringstream line;
    line << layer << ": " << neurons << " neurons in " << experts << " experts of " << out.expert_width
         << ", co-activation inside experts " << out.co_activation << ", router recall " << out.recall
         << ", FFN relative error " << out.relative_error << " at top-" << top_k;
    progress(line.str());
    report.layers.push_back(out);
  }
  return report;
}

}  // namespace distill::moe
