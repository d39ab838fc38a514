// Forward KL, KL(p || q): the student must cover every token the teacher
// gives mass to (Hinton et al., 2015). Gradient w.r.t. the student's scaled
// logits: q - p.
#include "trainer/distill/divergence.h"

namespace distill::kd {

torch::Tensor forwardKL(const torch::Tensor& log_q, const torch::Tensor& log_p) { return klFromLogProbs(log_p, log_q); }

torch::Tensor forwardKLGradientTerms(const torch::Tensor& log_q, const torch::Tensor& log_p) {
  return log_p.exp().neg().expand_as(log_q);  // q dg/dq = q (-p / q)
}

}  // namespace distill::kd
