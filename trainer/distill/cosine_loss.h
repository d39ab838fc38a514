// Cosine distillation (DistilBERT's cosine embedding loss): each student
// representation should point the way its teacher's does.
//
//   torch::Tensor loss = kd::cosineLoss(s_reps, t_reps, projection);  // [B]
//
//   loss_b = 1 - cos(W s_b, t_b)
//
// Widths that differ go through a learned projection W [Dt,Ds] of the
// student, as in hidden_mse and infonce.
#pragma once

#include <torch/torch.h>

namespace distill::kd {

// student [B,Ds], teacher [B,Dt], projection [Dt,Ds] or undefined (then
// Ds == Dt). Returns [B] float32 in [0, 2], differentiable w.r.t. the student
// and the projection; the teacher is detached. A zero vector on either side
// counts as orthogonal (loss 1).
torch::Tensor cosineLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& projection);

}  // namespace distill::kd
