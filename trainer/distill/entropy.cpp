#include "trainer/distill/entropy.h"

namespace distill::kd {

torch::Tensor entropy(const torch::Tensor& probabilities, int64_t dim) {
  const torch::Tensor p = probabilities.to(torch::kFloat);
  // where, not p * log(p): 0 * -inf would be NaN.
  const torch::Tensor p_log_p = torch::where(p > 0, p * p.log(), torch::zeros_like(p));
  return -p_log_p.sum(dim);
}

}  // namespace distill::kd
