// Internal: the decoder the Llama family shares (Llama, Qwen2, Mistral), as
// TorchScript built from C++ source: token embeddings, L blocks of
// x + Attention(RMSNorm(x)) with rotary positions and grouped-query heads,
// then x + down(silu(gate(h)) * up(h)) on RMSNorm(x), a final RMSNorm and a
// language-modeling head (tied to the embeddings or not). The families differ
// only in which projections carry biases and in the sliding window; each
// family file reads its config into a DecoderSpec.
//
// Parameter names (docs/models.md, "From Hugging Face"): embed_tokens,
// layer<i>.{input_norm,q,k,v,o,post_norm,gate,up,down}_weight, the biases the
// family has (layer<i>.q_bias, ...), final_norm_weight, lm_head_weight.
#pragma once

#include <cstdint>
#include <string>

#include <torch/script.h>

#include "trainer/model/hf/families.h"
#include "trainer/model/hf/hf_config.h"
#include "trainer/model/hf/hf_weights.h"
#include "trainer/model/hf/rope.h"
#include "trainer/model/hf/tensor_map.h"

namespace distill::model::hf {

struct DecoderSpec {
  std::string family;  // "llama", "qwen2", "mistral": distill_arch is "hf-<family>"
  int64_t vocab_size = 0, hidden_size = 0, intermediate_size = 0, num_layers = 0;
  int64_t num_heads = 0, num_kv_heads = 0, head_dim = 0, max_positions = 0;
  double rms_eps = 1e-6, attention_dropout = 0.0;
  bool qkv_bias = false, o_bias = false, mlp_bias = false, tied_head = false;
  int64_t sliding_window = 0;  // > 0: a longer sequence is an error (the window would matter)
  Rope rope;
};

// The common fields of the three families' config.json (hidden_size,
// num_attention_heads, rope, ...), checked; the family sets its biases and window.
DecoderSpec readDecoderSpec(const HfConfig& config, const std::string& family);

// Which checkpoint tensor each parameter holds, and the members of one FFN neuron.
std::vector<TensorMapping> decoderTensors(const DecoderSpec& spec);
std::vector<NeuronMember> decoderNeurons(const DecoderSpec& spec);

// The Family of a decoder whose config `spec` reads.
Family decoderFamily(DecoderSpec (*spec)(const HfConfig&));

// Builds the TorchScript module and fills it from `weights` (HF tensor names,
// `model.` prefix), checking every shape against `spec`.
torch::jit::Module buildDecoder(const DecoderSpec& spec, HfWeights& weights, const HfConfig& config);

// The TorchScript of a block (forward and ffn: dense SwiGLU, or `routed`
// experts, trainer/model/routed_ffn.h) and of the top (forward, over `layers`
// blocks, with the head tied to embed_tokens or lm_head_weight).
std::string decoderBlockSource(bool qkv_bias, bool o_bias, bool mlp_bias, bool routed);
std::string decoderTopSource(int64_t layers, bool tied_head);

// Whether a model's distill_arch is one of these decoders: hf-llama, hf-qwen2, hf-mistral.
bool isDecoderArch(const std::string& distill_arch);

// For `distill prune` (trainer/prune/hf_decoder_blocks.cpp), TorchScript
// source sharing the forward's text: the top's
//   block_arguments(input_ids, attention_mask) -> [x, allowed, cos, sin]
// (block 0's arguments), and a block's
//   linear_inputs(x, allowed, cos, sin) -> [h, context, h2, act]
// the inputs of q/k/v, o, gate/up and down, with the biases `block` has.
std::string decoderBlockArgumentsSource();
std::string decoderLinearInputsSource(const torch::jit::Module& block);

}  // namespace distill::model::hf
