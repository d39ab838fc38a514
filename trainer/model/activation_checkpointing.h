// Activation checkpointing for the built-in architectures
// (runtime.activation_checkpointing): the student's forward keeps only each
// transformer block's input; backward recomputes the block from it, with the
// same dropout masks (the random generator's state is saved and restored) and
// the same autocast state, then backpropagates through the recomputation. A
// step then holds the activations of one block at a time instead of all of
// them, for about one extra block forward per block.
//
//   if (model::supportsActivationCheckpointing(student)) ...
//   model::ModelOutputs out = model::runCheckpointed(student, ids, mask, "student");
//   loss(out).backward();    // gradients equal those of model::runModel's forward
#pragma once

#include <string>

#include <torch/script.h>

#include "trainer/model/model_io.h"

namespace distill::model {

// Whether `m` is split into the methods the checkpointed forward calls: a
// built-in architecture (encoder-classifier, decoder-lm) written by this
// version; models brought from PyTorch are not.
bool supportsActivationCheckpointing(const torch::jit::Module& m);

// m.forward(input_ids, attention_mask), block by block, each block
// checkpointed. Same outputs and contract checks as runModel; throws
// distill::Error naming `model_name` when `m` does not support it.
ModelOutputs runCheckpointed(torch::jit::Module& m, const torch::Tensor& input_ids,
                             const torch::Tensor& attention_mask, const std::string& model_name);

}  // namespace distill::model
