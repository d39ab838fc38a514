// One vector per sample from a hidden-state layer, for the representation
// terms (CKA, InfoNCE, cosine): the mean over the sample's real tokens.
//
//   torch::Tensor reps = kd::maskedMean(out.hidden_states[layer + 1], attention_mask);  // [B,D]
//
// The mean, not the first token, for the reason the built-in classifier uses
// it (docs/models.md): models trained from scratch may have no [CLS] token.
#pragma once

#include <torch/torch.h>

namespace distill::kd {

// sum_t m_bt h_bt / sum_t m_bt per sample, in float32; hidden [B,T,D],
// attention_mask [B,T] (non-zero = real token). A sample without real tokens
// gets the zero vector. Differentiable w.r.t. `hidden`.
torch::Tensor maskedMean(const torch::Tensor& hidden, const torch::Tensor& attention_mask);

}  // namespace distill::kd
