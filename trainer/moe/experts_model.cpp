// expertsModel: the dense model's weights in a model built with routed
// experts: a built-in one (trainer/model/builtin.h, block attributes
// included) or an import (hf/routed_import.h: the Llama family, GPT-2,
// BERT), so a model whose heads or neurons a structured export
// removed converts too (as long as every layer keeps a multiple of E neurons).
#include "common/error.h"
#include "trainer/model/builtin.h"
#include "trainer/model/hf/routed_import.h"
#include "trainer/moe/ffn_layout.h"
#include "trainer/moe/moefication.h"

namespace distill::moe {
namespace {

torch::jit::Module child(const torch::jit::Module& top, const std::string& dotted, std::string& leaf) {
  torch::jit::Module m = top;
  std::string rest = dotted;
  for (auto dot = rest.find('.'); dot != std::string::npos; dot = rest.find('.')) {
    m = m.attr(rest.substr(0, dot)).toModule();
    rest = rest.substr(dot + 1);
  }
  leaf = rest;
  return m;
}

}  // namespace

torch::jit::Module expertsModel(const torch::jit::Module& dense, const std::string& path, int64_t experts,
                                int64_t top_k) {
  const FfnLayout ffn = ffnLayout(dense, path);
  DISTILL_CHECK(!dense.hasattr("ffn_experts"), path, ": already has ", dense.attr("ffn_experts").toInt(),
                " experts per FFN");
  DISTILL_CHECK(experts >= 1, "--experts must be at least 1, got ", experts);
  DISTILL_CHECK(top_k >= 1 && top_k <= experts, "--top-k must be in [1, --experts = ", experts, "], got ", top_k);
  const int64_t layers = dense.attr("num_layers").toInt();
  for (int64_t i = 0; i < layers; ++i) {
    const std::string layer = "layer" + std::to_string(i);
    const int64_t n = neurons(dense.attr(layer).toModule(), ffn);
    DISTILL_CHECK(experts <= n, path, ": ", layer, " has ", n, " FFN neurons, fewer than --experts ", experts);
    DISTILL_CHECK(n % experts == 0, path, ": ", layer, "'s ", n, " FFN neurons do not split into --experts ", experts,
                  " equal experts");
  }
  const std::string arch = dense.attr("distill_arch").toStringRef();
  if (model::hf::isRoutableImport(arch)) return model::hf::routedImport(dense, path, experts, top_k);

  model::TransformerSize size;
  size.vocab_size = dense.attr("vocab_size").toInt();
  size.max_len = dense.attr("max_len").toInt();
  size.d_model = dense.attr("d_model").toInt();
  size.num_layers = layers;
  size.num_heads = dense.attr("num_heads").toInt();
  const int64_t d_ff = dense.attr("d_ff").toInt();
  size.dropout = dense.attr("dropout_p").toDouble();
  // Built at layer 0's width (the experts divide it); every block then takes
  // its own tensors and width, and the top keeps the dense model's d_ff.
  size.d_ff = dense.attr("layer0").toModule().attr("ff1_weight").toTensor().size(0);
  size.ffn_experts = experts;
  size.ffn_top_k = top_k;
  torch::jit::Module out = arch == "decoder-lm"
                               ? model::buildDecoderLM(size, 0)
                               : model::buildEncoderClassifier(size, dense.attr("num_classes").toInt(), 0);
  torch::NoGradGuard no_grad;
  for (const auto& p : dense.named_parameters(/*recurse=*/true)) {
    std::string leaf;
    torch::jit::Module target = child(out, p.name, leaf);
    DISTILL_CHECK(target.hasattr(leaf), path, ": parameter ", p.name, " is not one of a built-in ", arch, "'s");
    torch::Tensor copy = p.value.detach().clone();
    copy.set_requires_grad(p.value.requires_grad());
    target.setattr(leaf, copy);
  }
  for (int64_t i = 0; i < size.num_layers; ++i) {
    const std::string layer = "layer" + std::to_string(i);
    const torch::jit::Module from = dense.attr(layer).toModule();
    torch::jit::Module to = out.attr(layer).toModule();
    to.setattr("num_heads", from.attr("num_heads"));
    if (from.hasattr("head_ids")) to.setattr("head_ids", from.attr("head_ids"));  // files before head removal lack it
    to.setattr("expert_width", from.attr("ff1_weight").toTensor().size(0) / experts);
  }
  out.setattr("d_ff", d_ff);
  for (const char* flag : {"output_hidden_states", "output_attentions"}) {
    if (dense.hasattr(flag)) out.setattr(flag, dense.attr(flag));
  }
  for (const char* list : {"heads_per_layer", "d_ff_per_layer"}) {  // a structured export's record
    if (dense.hasattr(list)) out.register_attribute(list, c10::ListType::ofInts(), dense.attr(list));
  }
  return out;
}

double activeFfnFraction(const torch::jit::Module& model) {
  const FfnLayout ffn = ffnLayout(model, "the model");
  double dense = 0, active = 0;
  for (int64_t i = 0; i < model.attr("num_layers").toInt(); ++i) {
    const torch::jit::Module block = model.attr("layer" + std::to_string(i)).toModule();
    double per_neuron = 0;  // every row and column a neuron owns
    for (const auto& name : ffn.rows) per_neuron += block.attr(name).toTensor().numel() / neurons(block, ffn);
    for (const auto& name : ffn.columns) per_neuron += block.attr(name).toTensor().size(0);
    const double bias = ffn.output_bias.empty() ? 0.0 : block.attr(ffn.output_bias).toTensor().numel();
    dense += per_neuron * neurons(block, ffn) + bias;
    if (!block.hasattr("num_experts")) {
      active += per_neuron * neurons(block, ffn) + bias;
      continue;
    }
    const auto router = block.attr("router_weight").toTensor().numel() + block.attr("router_bias").toTensor().numel();
    active += per_neuron * block.attr("top_k").toInt() * block.attr("expert_width").toInt() + bias + router;
  }
  return dense > 0 ? active / dense : 1.0;
}

}  // namespace distill::moe
