#include "trainer/optim/grad_clip.h"

#include <cmath>

namespace distill::optim {

double clipGradNorm(const std::vector<NamedTensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  std::vector<torch::Tensor> norms;
  for (const NamedTensor& p : params) {
    const torch::Tensor& grad = p.tensor.grad();
    if (!grad.defined()) continue;
    grads.push_back(grad);
    // Accumulated in double so large models do not lose precision.
    // No dim: over all elements (spelled so for c10::optional, 1.13, and std::optional, 2.x, alike).
    norms.push_back(torch::linalg_vector_norm(grad, 2, /*dim=*/at::OptionalIntArrayRef(), /*keepdim=*/false,
                                              torch::kDouble));
  }
  if (grads.empty()) return 0.0;
  // One host sync for the whole model, not one per parameter.
  const double norm = torch::linalg_vector_norm(torch::stack(norms), 2).item<double>();
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    const double scale = max_norm / (norm + 1e-6);  // the epsilon torch uses
    for (torch::Tensor& grad : grads) grad.mul_(scale);
  }
  return norm;
}

void zeroGradients(const std::vector<NamedTensor>& params) {
  for (const NamedTensor& p : params) {
    if (p.tensor.grad().defined()) p.tensor.mutable_grad().zero_();
  }
}

}  // namespace distill::optim
