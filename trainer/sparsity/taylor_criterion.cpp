#include "trainer/sparsity/taylor_criterion.h"

namespace distill::sparsity {

void TaylorCriterion::attach(const std::vector<NamedTensor>& params) {
  for (const auto& p : params) sums_.add(p.name, torch::zeros_like(p.tensor, torch::MemoryFormat::Contiguous));
}

void TaylorCriterion::observe(const std::vector<NamedTensor>& params) {
  torch::NoGradGuard no_grad;
  for (const auto& p : params) {
    const torch::Tensor& g = p.tensor.grad();
    if (g.defined()) sums_.at(p.name).add_((g * p.tensor).abs_());
  }
}

torch::Tensor TaylorCriterion::score(const std::string& param_name, const torch::Tensor& /*weight*/) const {
  return sums_.at(param_name).clone();
}

void TaylorCriterion::onMasksUpdated() {
  for (const auto& t : sums_.list()) t.tensor.zero_();
}

}  // namespace distill::sparsity
