// What `distill moefy` needs to know of a model's feed-forward layers, per
// architecture, so the pass (moefication.cpp) has nothing architecture-specific:
//
//   gelu    the built-in blocks and the GPT-2 and BERT imports (hf-gpt2,
//           hf-bert, hf-bert-classifier): ff2(gelu(ff1(h))); a neuron is
//           active where its GELU output is > 0, and carries that much of
//           the output (GELU's negative dip, at most 0.17, counts as none).
//   swiglu  the Llama-family decoders (hf-llama, hf-qwen2, hf-mistral):
//           down(silu(gate(h)) * up(h)); a neuron is active where its gate
//           pre-activation is > 0 (silu, like GELU, is positive exactly
//           there), and carries |silu(gate) * up| of the output.
//
//   FfnLayout ffn = ffnLayout(model, "model.pt");
//   auto list = block.run_method("linear_inputs", args).toTensorList();  // [.., x = list[ffn.input], hidden = list[ffn.input + 1]]
//   stats.add(ffn.activity(block, x, hidden));
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <torch/script.h>

#include "trainer/prune/prunable_blocks.h"

namespace distill::moe {

struct FfnLayout {
  std::string kind;                  // "gelu" or "swiglu"
  // Block 0's arguments and linear_inputs, for the calibration pass.
  std::function<prune::PrunableBlocks(torch::jit::Module& model)> blocks;
  size_t input = 0;                  // linear_inputs[input]: the FFN input; [input + 1]: its hidden activations
  std::vector<std::string> rows;     // a block's tensors with one row (dim 0) per neuron
  std::vector<std::string> columns;  // ... with one column (dim 1) per neuron
  std::string output_bias;           // the bias added once to the FFN's output ("" for none)
  // [tokens, neurons]: > 0 where a neuron is active (x: FFN input rows, hidden: its activations).
  std::function<torch::Tensor(const torch::jit::Module& block, const torch::Tensor& x, const torch::Tensor& hidden)>
      activity;
  // [tokens, neurons] >= 0: how much of the output each neuron carries.
  std::function<torch::Tensor(const torch::Tensor& hidden)> magnitude;
};

// The layout of `model`'s architecture; distill::Error naming `path` and what
// moefy converts when it has none.
FfnLayout ffnLayout(const torch::jit::Module& model, const std::string& path);

// A block's neurons (rows of rows[0]) and the FFN's output for `hidden`
// computed densely, as the model did before it was routed.
int64_t neurons(const torch::jit::Module& block, const FfnLayout& ffn);
torch::Tensor denseOutput(const torch::jit::Module& block, const FfnLayout& ffn, const torch::Tensor& hidden);

}  // namespace distill::moe
