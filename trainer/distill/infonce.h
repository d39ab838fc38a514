// Contrastive distillation (InfoNCE, as in CRD and CLIP-style objectives):
// each student representation must pick out its own sample's teacher
// representation among the batch's.
//
//   torch::Tensor loss = kd::infoNCE(s_reps, t_reps, projection, /*temperature=*/0.1);  // [B]
//
//   s'_b = normalise(W s_b), t'_b = normalise(t_b)
//   logits_bj = s'_b . t'_j / tau
//   loss_b = -log softmax_j(logits_b)[b] = logsumexp_j logits_bj - logits_bb
//
// Widths that differ go through a learned projection W [Dt,Ds] of the
// student, as in hidden_mse: the teacher stays a fixed target.
#pragma once

#include <torch/torch.h>

namespace distill::kd {

// student [B,Ds], teacher [B,Dt], projection [Dt,Ds] or undefined (then
// Ds == Dt), temperature tau > 0. Returns [B] float32, differentiable w.r.t.
// the student and the projection; the teacher is detached. The other samples
// of the batch are the negatives, so B = 1 gives loss 0.
torch::Tensor infoNCE(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& projection,
                      double temperature);

}  // namespace distill::kd
