// A tensor with the name it has in its module (`encoder.layers.0.ffn.weight`).
//
// Masks, optimizer state and checkpoints are all keyed by parameter name, so
// the trainer passes parameters around as NamedTensor lists:
//
//   std::vector<sparsity::NamedTensor> params;
//   for (const auto& p : module.named_parameters()) params.push_back({p.name, p.value});
//
// `tensor` is a handle: it shares storage with the module's parameter, so
// in-place updates through it change the model.
#pragma once

#include <string>

#include <torch/torch.h>

namespace distill::sparsity {

struct NamedTensor {
  std::string name;
  torch::Tensor tensor;
};

}  // namespace distill::sparsity
