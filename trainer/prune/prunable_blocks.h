// The blocks of a model that `distill prune` can prune, per architecture: how
// a calibration batch becomes block 0's arguments, which linear layers a block
// has, and which tensor of the block's `linear_inputs` method feeds each.
// layerwise.cpp walks the blocks with this and nothing architecture-specific.
//
//   builtin_blocks.cpp     decoder-lm, encoder-classifier (distill init-model)
//   hf_decoder_blocks.cpp  hf-llama, hf-qwen2, hf-mistral (distill import-hf)
//   gpt2_bert_blocks.cpp   hf-gpt2, hf-bert, hf-bert-classifier (distill import-hf)
//
//   PrunableBlocks blocks = prunableBlocks(model, "model.pt", calibration.manifest());
//   auto args = blocks.first_arguments(batch);      // {x, then what every block takes}
//   blocks.define(block);                            // block.linear_inputs(args...) -> [inputs]
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/script.h>

#include "trainer/data/dataset.h"

namespace distill::prune {

struct PrunableBlocks {
  int64_t layers = 0;  // blocks are attributes layer0 .. layer<layers-1>
  struct Linear {
    std::string weight;  // the block's weight attribute, e.g. "q_weight"
    size_t input = 0;    // index of its input in linear_inputs' list
  };
  std::vector<Linear> linears;  // in the order they are pruned and reported
  size_t inputs = 0;            // tensors linear_inputs returns
  // Block 0's arguments for a calibration batch: the hidden states first, then
  // the ones every block takes unchanged (attention mask, rotary tables).
  std::function<std::vector<c10::IValue>(const data::Batch&)> first_arguments;
  // Defines linear_inputs on the block's class if it has none (models saved by
  // any version can be pruned): same arguments as forward, returns the inputs.
  std::function<void(torch::jit::Module& block)> define;
};

// The blocks of `model` (loaded from `path`); distill::Error naming the path
// when it is not an architecture prune knows, and naming both sides when the
// calibration data does not fit it (vocabulary, sequence length).
PrunableBlocks prunableBlocks(torch::jit::Module& model, const std::string& path,
                              const data::DatasetManifest& calibration);

// Internal, one per file: the architectures' tables.
PrunableBlocks builtinBlocks(torch::jit::Module& model);
PrunableBlocks hfDecoderBlocks(torch::jit::Module& model);
PrunableBlocks gpt2Blocks(torch::jit::Module& model);
PrunableBlocks bertBlocks(torch::jit::Module& model);

}  // namespace distill::prune
