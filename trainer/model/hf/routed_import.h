// For `distill moefy` (trainer/moe/experts_model.cpp): an imported model
// rebuilt with routed experts in its feed-forward layers
// (trainer/model/routed_ffn.h). The copy keeps every attribute, parameter and
// buffer of the dense module slot by slot, so whatever the import recorded
// (hf_config, rope frequencies, the sliding window, GELU's form) carries
// over, and compiles the family's block text with the routed ffn.
#pragma once

#include <cstdint>
#include <string>

#include <torch/script.h>

namespace distill::model::hf {

// Whether routedImport converts a model of this distill_arch: hf-llama,
// hf-qwen2, hf-mistral (SwiGLU), hf-gpt2, hf-bert, hf-bert-classifier (GELU).
bool isRoutableImport(const std::string& distill_arch);

// A copy of `dense` whose FFNs are `experts` experts of consecutive neurons,
// top_k of them run per token. The blocks gain num_experts, top_k,
// expert_width (their own width / experts) and zero routers (buffers
// router_weight [E, D], router_bias [E]); the top gains ffn_experts and
// ffn_top_k. With top_k = experts it computes what `dense` computes. The
// caller checks that every layer's neurons divide; distill::Error naming
// `path` when the model is not one of these, or its blocks not this version's.
torch::jit::Module routedImport(const torch::jit::Module& dense, const std::string& path, int64_t experts,
                                int64_t top_k);

}  // namespace distill::model::hf
