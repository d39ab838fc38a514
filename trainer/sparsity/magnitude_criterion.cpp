#include "trainer/sparsity/magnitude_criterion.h"

namespace distill::sparsity {

torch::Tensor MagnitudeCriterion::score(const std::string& /*param_name*/, const torch::Tensor& weight) const {
  return weight.detach().abs();
}

}  // namespace distill::sparsity
