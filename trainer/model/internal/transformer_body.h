// Internal: the parts the built-in encoder and decoder share.
//
// Both architectures are "embeddings -> L pre-LayerNorm blocks -> final
// LayerNorm"; only the attention mask and the head differ. The shared part is
// registered here, and its TorchScript method `transform` is generated here,
// so each architecture file only adds its head and its `forward`:
//
//   internal::ParameterInit init(seed);
//   internal::addTransformerBody(top, size, "encoder-classifier", init);
//   top.register_parameter("classifier_weight", init.normal({c, d}), false);
//   top.define(internal::transformerBodySource(size.num_layers) + kForwardSource);
#pragma once

#include <cstdint>
#include <string>

#include <ATen/core/Generator.h>
#include <torch/script.h>

#include "trainer/model/builtin.h"

namespace distill::model::internal {

// Draws initial parameter values from one private generator, in call order,
// so a seed fixes the whole model regardless of the global torch seed.
class ParameterInit {
 public:
  explicit ParameterInit(uint64_t seed);
  torch::Tensor normal(at::IntArrayRef shape);  // N(0, 0.02): weight matrices, embeddings
  torch::Tensor zeros(at::IntArrayRef shape);   // biases
  torch::Tensor ones(at::IntArrayRef shape);    // LayerNorm gains

 private:
  at::Generator generator_;
};

// Registers on `top`, in this order: the introspection attributes
// (distill_arch, vocab_size, max_len, d_model, num_layers, num_heads, d_ff),
// `training`, `dropout_p`, the parameters `embed_tokens` [V, D] and
// `embed_positions` [P, D], the blocks `layer0`..`layer{L-1}` and the
// parameters `final_norm_weight`, `final_norm_bias` [D]. Checks `size` first.
// With size.ffn_experts > 0 also `ffn_experts` and `ffn_top_k`, and the blocks
// (class TransformerExpertsBlock) route their FFN (builtin.h).
void addTransformerBody(torch::jit::Module& top, const TransformerSize& size,
                        const std::string& arch, ParameterInit& init);

// TorchScript source of the methods
//   transform(self, input_ids, allowed) -> (final, hidden, attentions)
//   with_layers(self, logits, hidden, attentions) -> the forward's dict
// where `allowed` is a bool mask broadcastable to [B, H, T, T] (true where a
// query may attend to a key), `final` is the last block's output after the
// final LayerNorm [B, T, D], `hidden` the L+1 [B, T, D] layer outputs
// (embeddings, then each block, before the final LayerNorm) and `attentions`
// the L [B, H, T, T] maps; each list is empty when the attribute
// output_hidden_states / output_attentions is false, and with_layers stacks
// them into "hidden_states" [L+1, B, T, D] and "attentions" [L, B, H, T, T].
std::string transformerBodySource(int64_t num_layers);

}  // namespace distill::model::internal
