// Internal: which module parameter holds which tensor of a Hugging Face
// checkpoint. One table per family (built from its config) drives both
// directions: import-hf fills the module from the checkpoint, export --format
// hf writes the checkpoint from the module, so the two cannot drift apart.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/script.h>

#include "trainer/model/hf/hf_weights.h"

namespace distill::model::hf {

struct TensorMapping {
  std::string ours;             // "embed_tokens", "layer3.q_weight": block i is the submodule layer<i>
  std::string theirs;           // "model.layers.3.self_attn.q_proj.weight"
  std::vector<int64_t> shape;   // as stored in the checkpoint
  bool transposed = false;      // stored [in, out] (GPT-2's Conv1D), held [out, in]
};

// One FFN neuron of every layer, as the family lays it out: the parameters
// and the dimension of each that indexes the neurons (export shrinks the FFN
// when every layer lost the same number of whole neurons).
struct NeuronMember {
  std::string param;  // within a block, e.g. "up_weight"
  int64_t dim;
};

// The neuron of a dense FFN, ff2(act(ff1(x))), as GPT-2 and BERT are held.
inline std::vector<NeuronMember> denseFfnNeurons() { return {{"ff1_weight", 0}, {"ff1_bias", 0}, {"ff2_weight", 1}}; }

// Registers every mapped tensor of `weights` as a parameter: top-level names on
// `top`, "layer<i>.<name>" on blocks[i]. Checks shapes (errors name file and tensor).
void takeAll(const std::vector<TensorMapping>& map, HfWeights& weights, torch::jit::Module& top,
             std::vector<torch::jit::Module>& blocks);

}  // namespace distill::model::hf
