// Generalized Jensen-Shannon divergence (GKD, Agarwal et al., 2024):
//   JSD_beta = beta KL(p || m) + (1 - beta) KL(q || m),  m = beta p + (1 - beta) q.
// It vanishes as beta -> 0 or 1, where JSD/beta -> KL(p || q) and
// JSD/(1 - beta) -> KL(q || p); at exactly 0 and 1 this returns those limits,
// forward and reverse KL, as GKD's implementations do. Beta 0.5 is the
// symmetric JSD, bounded by ln 2.
#include "trainer/distill/divergence.h"

#include "common/error.h"

namespace distill::kd {

torch::Tensor generalizedJSD(const torch::Tensor& log_q, const torch::Tensor& log_p, double beta) {
  DISTILL_CHECK(beta >= 0 && beta <= 1, "distill.beta must be in [0, 1], got ", beta);
  if (beta == 0) return forwardKL(log_q, log_p);
  if (beta == 1) return reverseKL(log_q, log_p);
  const torch::Tensor log_m = logMixture(log_p, beta, log_q, 1 - beta);
  return beta * klFromLogProbs(log_p, log_m) + (1 - beta) * klFromLogProbs(log_q, log_m);
}

// dg/dq = (1 - beta) log(q / m): the terms of m's derivative cancel.
torch::Tensor generalizedJSDGradientTerms(const torch::Tensor& log_q, const torch::Tensor& log_p, double beta) {
  DISTILL_CHECK(beta >= 0 && beta <= 1, "distill.beta must be in [0, 1], got ", beta);
  if (beta == 0) return forwardKLGradientTerms(log_q, log_p);
  if (beta == 1) return reverseKLGradientTerms(log_q, log_p);
  const torch::Tensor log_m = logMixture(log_p, beta, log_q, 1 - beta);
  return (1 - beta) * qTimes(log_q, log_q - log_m);
}

}  // namespace distill::kd
