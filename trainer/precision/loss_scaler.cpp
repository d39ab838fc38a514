#include "trainer/precision/loss_scaler.h"

#include <torch/torch.h>

namespace distill::precision {

DynamicLossScaler::DynamicLossScaler(LossScalerOptions options) : options_(options), scale_(options.initial_scale) {}

bool DynamicLossScaler::unscale(const std::vector<sparsity::NamedTensor>& params) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flags;
  for (const auto& p : params) {
    const torch::Tensor& g = p.tensor.grad();
    if (g.defined()) flags.push_back(torch::isfinite(g).all());
  }
  // One host sync for the whole model.
  const bool finite = flags.empty() || torch::stack(flags).all().item<bool>();
  if (finite) {
    const double inverse = 1.0 / scale_;
    for (const auto& p : params) {
      torch::Tensor g = p.tensor.grad();
      if (g.defined()) g.mul_(inverse);
    }
  }
  update(finite);
  return finite;
}

void DynamicLossScaler::update(bool finite) {
  if (!finite) {
    scale_ *= options_.backoff_factor;
    finite_steps_ = 0;
    return;
  }
  if (++finite_steps_ >= options_.growth_interval) {
    scale_ *= options_.growth_factor;
    finite_steps_ = 0;
  }
}

}  // namespace distill::precision
