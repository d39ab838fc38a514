#include "trainer/sparsity/fisher_criterion.h"

namespace distill::sparsity {

void FisherCriterion::attach(const std::vector<NamedTensor>& params) {
  for (const auto& p : params) sums_.add(p.name, torch::zeros_like(p.tensor, torch::MemoryFormat::Contiguous));
}

void FisherCriterion::observe(const std::vector<NamedTensor>& params) {
  torch::NoGradGuard no_grad;
  for (const auto& p : params) {
    const torch::Tensor& g = p.tensor.grad();
    if (g.defined()) sums_.at(p.name).addcmul_(g, g);
  }
  count_.add_(1.0);
}

torch::Tensor FisherCriterion::score(const std::string& param_name, const torch::Tensor& /*weight*/) const {
  const double n = std::max(count_.item<double>(), 1.0);
  return sums_.at(param_name) / n;
}

void FisherCriterion::onMasksUpdated() {
  for (const auto& t : sums_.list()) t.tensor.zero_();
  count_.zero_();
}

std::vector<NamedTensor> FisherCriterion::state() const {
  std::vector<NamedTensor> out = sums_.list();
  out.push_back({"fisher/count", count_});
  return out;
}

}  // namespace distill::sparsity
