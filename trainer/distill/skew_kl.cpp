// Skew KL (DistiLLM, Ko et al., 2024): KL(p || alpha p + (1 - alpha) q). Mixing
// some of the teacher into the student's side keeps the divergence and its
// gradient bounded where q is tiny (at most -log alpha); alpha 0 is forward KL.
#include "trainer/distill/divergence.h"

#include "common/error.h"

namespace distill::kd {

torch::Tensor skewKL(const torch::Tensor& log_q, const torch::Tensor& log_p, double alpha) {
  DISTILL_CHECK(alpha >= 0 && alpha < 1, "distill.alpha must be in [0, 1), got ", alpha);
  return klFromLogProbs(log_p, logMixture(log_p, alpha, log_q, 1 - alpha));
}

}  // namespace distill::kd
