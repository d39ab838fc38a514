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

}  // namespace distill::kd
