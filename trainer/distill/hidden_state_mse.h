// Hidden-state distillation (TinyBERT): the mean squared error between a
// student layer, projected to the teacher's width, and a teacher layer,
// averaged over the sample's real tokens.
//
//   torch::Tensor mse = kd::hiddenStateMSE(s_hidden[3], t_hidden[11], mask, projection);  // [B]
//
//   loss_b = sum_t m_bt * mean_d (W s_btd - t_btd)^2 / sum_t m_bt
#pragma once

#include <torch/torch.h>

namespace distill::kd {

// student [B,T,Ds], teacher [B,T,Dt], attention_mask [B,T] (non-zero = real
// token), projection [Dt,Ds] or undefined (then Ds must equal Dt). Returns
// [B] float32, differentiable w.r.t. the student and the projection; the
// teacher is detached. A sample without real tokens gets 0.
torch::Tensor hiddenStateMSE(const torch::Tensor& student, const torch::Tensor& teacher,
                             const torch::Tensor& attention_mask, const torch::Tensor& projection);

}  // namespace distill::kd
