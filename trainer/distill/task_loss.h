// The task loss: cross-entropy of the student's logits against the labels,
// one value per sample so the caller can mask, weight and average it.
//
//   torch::Tensor ce = kd::crossEntropyPerSample(logits, labels);  // [B]
//
// Per-token language-model data is flattened to rows by the caller
// ([B,T,C] -> [B*T,C]), so one row is one prediction.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace distill::kd {

// Label value of a row that carries no target (padding, prompt tokens);
// the same convention as PyTorch's ignore_index and Hugging Face datasets.
constexpr int64_t kIgnoreLabel = -100;

// -log softmax(logits)[label] per row, computed in float32. logits [B,C],
// labels [B] int64 in [0,C) or kIgnoreLabel; ignored rows get loss 0 and no
// gradient. Throws distill::Error on mismatched shapes or out-of-range labels.
torch::Tensor crossEntropyPerSample(const torch::Tensor& logits, const torch::Tensor& labels);

// Throws distill::Error unless labels are [rows] int64 in [0, classes) or
// kIgnoreLabel (one host sync).
void checkLabels(const torch::Tensor& labels, int64_t rows, int64_t classes);

}  // namespace distill::kd
