#include "trainer/sparsity/movement_criterion.h"

namespace distill::sparsity {

void MovementCriterion::attach(const std::vector<NamedTensor>& params) {
  for (const auto& p : params) scores_.add(p.name, torch::zeros_like(p.tensor, torch::MemoryFormat::Contiguous));
}

void MovementCriterion::observe(const std::vector<NamedTensor>& params) {
  torch::NoGradGuard no_grad;
  for (const auto& p : params) {
    const torch::Tensor& g = p.tensor.grad();
    if (g.defined()) scores_.at(p.name).sub_(g * p.tensor);
  }
}

torch::Tensor MovementCriterion::score(const std::string& param_name, const torch::Tensor& /*weight*/) const {
  return scores_.at(param_name).clone();
}

}  // namespace distill::sparsity
