// Total variation distance, 1/2 sum |p - q|: bounded by 1, symmetric, and its
// gradient does not grow with the log-ratio (Wen et al., 2023, f-divergence KD).
#include "trainer/distill/divergence.h"

namespace distill::kd {

torch::Tensor totalVariation(const torch::Tensor& log_q, const torch::Tensor& log_p) {
  return 0.5 * (log_p.exp() - log_q.exp()).abs().sum(/*dim=*/-1);
}

torch::Tensor totalVariationGradientTerms(const torch::Tensor& log_q, const torch::Tensor& log_p) {
  const torch::Tensor q = log_q.exp();
  return 0.5 * q * (q - log_p.exp()).sign();  // |x|' = sign(x), 0 at 0 as autograd's
}

}  // namespace distill::kd
