// Logit distillation (Hinton et al., 2015): the KL divergence from the
// teacher's softened distribution to the student's, one value per sample.
//
//   torch::Tensor kl = kd::logitKL(student_logits, teacher_logits, /*temperature=*/2.0);  // [B]
//
// Scaling by T^2 keeps the gradient magnitude of this term roughly independent
// of T, so kd_weight need not be retuned when the temperature changes.
#pragma once

#include <torch/torch.h>

namespace distill::kd {

// KL(softmax(t/T) || softmax(s/T)) * T^2 per row, in float32. Both logits
// [B,C]. Differentiable with respect to the student only (the teacher is
// detached). Teacher logits of -inf (classes outside a top-k cache) are
// allowed: their probability is 0 and they contribute exactly 0.
torch::Tensor logitKL(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                      double temperature);

}  // namespace distill::kd
