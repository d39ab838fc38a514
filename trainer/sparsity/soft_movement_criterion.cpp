#include "trainer/sparsity/soft_movement_criterion.h"

namespace distill::sparsity {

void SoftMovementCriterion::attach(const std::vector<NamedTensor>& params) {
  for (const auto& p : params) {
    scores_.add(p.name, torch::full_like(p.tensor, score_init_, torch::MemoryFormat::Contiguous));
  }
}

void SoftMovementCriterion::observe(const std::vector<NamedTensor>& params) {
  torch::NoGradGuard no_grad;
  for (const auto& p : params) {
    torch::Tensor& s = scores_.at(p.name);
    torch::Tensor step = torch::zeros_like(s);
    const torch::Tensor& g = p.tensor.grad();
    if (g.defined()) step.add_(g * p.tensor);
    if (regularizer_ > 0) {
      const torch::Tensor sig = torch::sigmoid(s);
      step.add_(sig * (1 - sig), regularizer_);
    }
    s.sub_(step, score_lr_);
  }
}

torch::Tensor SoftMovementCriterion::score(const std::string& param_name, const torch::Tensor& /*weight*/) const {
  return scores_.at(param_name).clone();
}

}  // namespace distill::sparsity
