// Skew reverse KL (DistiLLM, Ko et al., 2024): KL(q || alpha q + (1 - alpha) p).
// Finite where the teacher gives probability 0 (the mixture keeps alpha q
// there); alpha 0 is reverse KL.
#include "trainer/distill/divergence.h"

#include "common/error.h"

namespace distill::kd {

torch::Tensor skewReverseKL(const torch::Tensor& log_q, const torch::Tensor& log_p, double alpha) {
  DISTILL_CHECK(alpha >= 0 && alpha < 1, "distill.alpha must be in [0, 1), got ", alpha);
  return klFromLogProbs(log_q, logMixture(log_q, alpha, log_p, 1 - alpha));
}

// g = q log(q / m), m = alpha q + (1 - alpha) p: dg/dq = log(q / m) + 1 - alpha q / m.
torch::Tensor skewReverseKLGradientTerms(const torch::Tensor& log_q, const torch::Tensor& log_p, double alpha) {
  DISTILL_CHECK(alpha >= 0 && alpha < 1, "distill.alpha must be in [0, 1), got ", alpha);
  // At alpha 0, m = p, and alpha q / m would be 0 times an exp that can overflow where p is tiny.
  if (alpha == 0) return reverseKLGradientTerms(log_q, log_p);
  const torch::Tensor log_m = logMixture(log_q, alpha, log_p, 1 - alpha);
  return qTimes(log_q, log_q - log_m + 1 - alpha * (log_q - log_m).exp());
}

}  // namespace distill::kd
