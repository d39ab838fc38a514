// Skew KL (DistiLLM, Ko et al., 2024): KL(p || alpha p + (1 - alpha) q). Mixing
// some of the teacher into the student's side keeps the divergence and its
// gradient bounded where q is tiny (at most -log alpha); alpha 0 is forward KL.
#include "trainer/distill/divergence.h"

#include <limits>

#include "common/error.h"

namespace distill::kd {

torch::Tensor skewKL(const torch::Tensor& log_q, const torch::Tensor& log_p, double alpha) {
  DISTILL_CHECK(alpha >= 0 && alpha < 1, "distill.alpha must be in [0, 1), got ", alpha);
  return klFromLogProbs(log_p, logMixture(log_p, alpha, log_q, 1 - alpha));
}

// g = p log(p / m), m = alpha p + (1 - alpha) q: q dg/dq = -(1 - alpha) p q / m, 0 where p is 0.
torch::Tensor skewKLGradientTerms(const torch::Tensor& log_q, const torch::Tensor& log_p, double alpha) {
  DISTILL_CHECK(alpha >= 0 && alpha < 1, "distill.alpha must be in [0, 1), got ", alpha);
  if (alpha == 0) return forwardKLGradientTerms(log_q, log_p);  // m = q: no log q - log m where q is 0
  const torch::Tensor log_m = logMixture(log_p, alpha, log_q, 1 - alpha);
  const torch::Tensor terms = -(1 - alpha) * (log_p + log_q - log_m).exp();
  return torch::where(log_p.expand_as(log_q) == -std::numeric_limits<float>::infinity(), torch::zeros_like(terms), terms);
}

}  // namespace distill::kd
