// Shannon entropy of probability distributions, with 0 log 0 = 0 so classes
// of probability 0 (top-k caches, amalgamation teachers) add nothing.
//
//   torch::Tensor h = kd::entropy(torch::softmax(logits / T, 1), /*dim=*/1);  // [B]
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace distill::kd {

// -sum p log p along `dim`, in float32.
torch::Tensor entropy(const torch::Tensor& probabilities, int64_t dim);

}  // namespace distill::kd
