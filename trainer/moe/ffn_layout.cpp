#include "trainer/moe/ffn_layout.h"

#include <utility>

#include "common/error.h"
#include "trainer/model/hf/rms_decoder.h"

namespace distill::moe {
namespace {

std::string arch(const torch::jit::Module& model) {
  return model.hasattr("distill_arch") ? model.attr("distill_arch").toStringRef() : "";
}

// linear_inputs: the built-in blocks and GPT-2 [ln1 out, context, ln2 out,
// gelu(ff1)], BERT [block input, context, ln1 out, gelu(ff1)].
FfnLayout geluLayout(std::function<prune::PrunableBlocks(torch::jit::Module&)> blocks) {
  FfnLayout ffn;
  ffn.kind = "gelu";
  ffn.blocks = std::move(blocks);
  ffn.input = 2;
  ffn.rows = {"ff1_weight", "ff1_bias"};
  ffn.columns = {"ff2_weight"};
  ffn.output_bias = "ff2_bias";
  ffn.activity = [](const torch::jit::Module&, const torch::Tensor&, const torch::Tensor& hidden) { return hidden; };
  ffn.magnitude = [](const torch::Tensor& hidden) { return hidden.to(torch::kFloat).clamp_min(0); };
  return ffn;
}

FfnLayout swigluLayout(const torch::jit::Module& model) {
  FfnLayout ffn;
  ffn.kind = "swiglu";
  ffn.blocks = prune::hfDecoderBlocks;  // linear_inputs: [h, context, h2, silu(gate) * up]
  ffn.input = 2;
  const bool bias = model.attr("layer0").toModule().hasattr("gate_bias");
  ffn.rows = {"gate_weight", "up_weight"};
  if (bias) ffn.rows.insert(ffn.rows.end(), {"gate_bias", "up_bias"});
  ffn.columns = {"down_weight"};
  ffn.output_bias = bias ? "down_bias" : "";
  ffn.activity = [bias](const torch::jit::Module& block, const torch::Tensor& x, const torch::Tensor&) {
    const torch::Tensor b = bias ? block.attr("gate_bias").toTensor() : torch::Tensor();
    return torch::linear(x, block.attr("gate_weight").toTensor(), b);
  };
  ffn.magnitude = [](const torch::Tensor& hidden) { return hidden.to(torch::kFloat).abs(); };
  return ffn;
}

}  // namespace

FfnLayout ffnLayout(const torch::jit::Module& model, const std::string& path) {
  const std::string a = arch(model);
  if (a == "decoder-lm" || a == "encoder-classifier") return geluLayout(prune::builtinBlocks);
  if (a == "hf-gpt2" || a == "hf-bert" || a == "hf-bert-classifier") {
    for (const char* name : {"ff1_weight", "ff1_bias", "ff2_weight", "ff2_bias"}) {
      DISTILL_CHECK(model.hasattr("layer0") && model.attr("layer0").toModule().hasattr(name), path, ": a ", a,
                    " whose layer0 has no ", name, "; import it again with distill import-hf");
    }
    return geluLayout(a == "hf-gpt2" ? prune::gpt2Blocks : prune::bertBlocks);
  }
  if (model::hf::isDecoderArch(a)) {
    for (const char* name : {"gate_weight", "up_weight", "down_weight"}) {
      DISTILL_CHECK(model.hasattr("layer0") && model.attr("layer0").toModule().hasattr(name), path, ": a ", a,
                    " whose layer0 has no ", name, "; import it again with distill import-hf");
    }
    return swigluLayout(model);
  }
  DISTILL_FAIL(path, ": distill moefy converts the built-in architectures (decoder-lm, encoder-classifier; distill "
               "init-model) and the Hugging Face imports hf-llama, hf-qwen2, hf-mistral, hf-gpt2, hf-bert and "
               "hf-bert-classifier (distill import-hf); this model is ", a.empty() ? "none of them" : "a " + a);
}

int64_t neurons(const torch::jit::Module& block, const FfnLayout& ffn) {
  return block.attr(ffn.rows.front()).toTensor().size(0);
}

torch::Tensor denseOutput(const torch::jit::Module& block, const FfnLayout& ffn, const torch::Tensor& hidden) {
  const torch::Tensor bias = ffn.output_bias.empty() ? torch::Tensor() : block.attr(ffn.output_bias).toTensor();
  return torch::linear(hidden, block.attr(ffn.columns.front()).toTensor(), bias);
}

}  // namespace distill::moe
