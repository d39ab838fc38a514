// Built-in transformer architectures, written as TorchScript without Python.
//
// `distill init-model` uses these to write a student (or a small teacher) that
// follows the model contract of docs/models.md: forward(input_ids,
// attention_mask) -> {"logits", "hidden_states", "attentions"}. Both are
// pre-LayerNorm transformers with GELU feed-forward layers and learned
// positional embeddings; the decoder adds a causal mask.
//
//   model::TransformerSize size;           // tiny defaults, fine for tests
//   size.num_layers = 4;
//   auto student = model::buildEncoderClassifier(size, /*num_classes=*/2, /*seed=*/7);
//   student.save("student.pt");            // loads with torch.jit.load in Python
//
// Parameters are named so that sparsity rules read naturally:
// `embed_tokens`, `embed_positions`, `layer0.qkv_weight`, `layer0.ff1_weight`,
// `final_norm_weight`, `classifier_weight` / `lm_head_weight` (full list in
// docs/models.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/script.h>

namespace distill::model {

// The shape of a built-in transformer. The defaults make a tiny model that
// builds and runs in milliseconds (unit tests, smoke runs).
struct TransformerSize {
  int64_t vocab_size = 64;
  int64_t max_len = 32;     // longest sequence the positional table covers
  int64_t d_model = 64;
  int64_t num_layers = 2;
  int64_t num_heads = 4;    // must divide d_model
  int64_t d_ff = 128;       // width of the feed-forward hidden layer
  double dropout = 0.1;     // on embeddings, attention probabilities, residual branches
  // Mixture of experts (MoEfication, `distill moefy`): 0 = a dense FFN. With
  // E > 0 every block's d_ff neurons are E experts of d_ff / E consecutive
  // neurons, and a router (a linear layer on the FFN input, buffers
  // router_weight [E, D] and router_bias [E], not trained by `distill train`)
  // picks ffn_top_k of them per token; the FFN output is the sum of the picked
  // experts' outputs plus ff2_bias, so with ffn_top_k = E it is the dense FFN.
  int64_t ffn_experts = 0;
  int64_t ffn_top_k = 0;
};

// Throws distill::Error naming the offending field when `size` cannot build a
// model (non-positive sizes, d_model not divisible by num_heads, dropout
// outside [0, 1), experts that do not divide d_ff, top-k outside [1, experts]).
void checkTransformerSize(const TransformerSize& size);

// Bidirectional encoder with a classification head on the masked mean of the
// final hidden states. logits: [B, num_classes]. Parameters are initialised
// from `seed` only: the same seed gives the same model.
torch::jit::Module buildEncoderClassifier(const TransformerSize& size, int64_t num_classes,
                                          uint64_t seed);

// Causal decoder with a language-modeling head. logits: [B, T, vocab_size];
// position t only sees positions <= t.
torch::jit::Module buildDecoderLM(const TransformerSize& size, uint64_t seed);

// The names accepted by `distill init-model --arch`, in a stable order.
std::vector<std::string> builtinArchitectures();

}  // namespace distill::model
