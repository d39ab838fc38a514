// Test helper: permutes every block's FFN neurons as `distill moefy` does
// (trainer/moe/moefication.cpp): the `rows` tensors along dim 0, the
// `columns` tensors along dim 1; a tensor a block does not have is skipped.
// The model's function must not change.
#pragma once

#include <initializer_list>
#include <string>

#include <torch/script.h>
#include <torch/torch.h>

namespace distill::testing {

inline void permuteNeurons(torch::jit::Module& model, const torch::Tensor& perm,
                           std::initializer_list<const char*> rows, std::initializer_list<const char*> columns) {
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < model.attr("num_layers").toInt(); ++i) {
    torch::jit::Module block = model.attr("layer" + std::to_string(i)).toModule();
    for (const auto& [names, dim] : {std::pair{rows, 0}, std::pair{columns, 1}}) {
      for (const char* name : names) {
        if (!block.hasattr(name)) continue;
        torch::Tensor t = block.attr(name).toTensor();
        t.copy_(t.index_select(dim, perm));
      }
    }
  }
}

}  // namespace distill::testing
