#include "trainer/moe/router_fit.h"

#include <cmath>

#include "common/error.h"

namespace distill::moe {

torch::Tensor expertShares(const torch::Tensor& activations, int64_t experts) {
  const int64_t n = activations.size(0), width = activations.size(1) / experts;
  const torch::Tensor mass = activations.to(torch::kFloat).clamp_min(0).view({n, experts, width}).sum(-1);
  const torch::Tensor total = mass.sum(-1, /*keepdim=*/true);
  return torch::where(total.gt(0), mass / total.clamp_min(1e-30), torch::full_like(mass, 1.0 / experts));
}

Router fitRouter(const std::vector<torch::Tensor>& inputs, const std::vector<torch::Tensor>& shares, int64_t experts,
                 const RouterOptions& options, const std::function<void(torch::Tensor&)>& sum) {
  DISTILL_ASSERT(!inputs.empty() && inputs.size() == shares.size());
  const int64_t d = inputs[0].size(1);
  const int64_t params = experts * (d + 1);  // weight then bias, flattened
  torch::Tensor theta = torch::zeros({params}, torch::kFloat64);
  torch::Tensor m = torch::zeros_like(theta), v = torch::zeros_like(theta);
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  Router router;
  for (int64_t step = 1; step <= options.steps; ++step) {
    const torch::Tensor w = theta.narrow(0, 0, experts * d).view({experts, d}).to(torch::kFloat);
    const torch::Tensor b = theta.narrow(0, experts * d, experts).to(torch::kFloat);
    // One reduction per step: [gradient of the summed loss, summed loss, tokens].
    torch::Tensor local = torch::zeros({params + 2}, torch::kFloat64);
    for (size_t k = 0; k < inputs.size(); ++k) {
      const torch::Tensor x = inputs[k].to(torch::kFloat);
      const torch::Tensor logp = torch::log_softmax(torch::linear(x, w, b), -1);
      const torch::Tensor diff = logp.exp() - shares[k];  // d(cross-entropy)/d(logits), per token
      local.narrow(0, 0, experts * d).add_(torch::mm(diff.t(), x).reshape({-1}).to(torch::kFloat64));
      local.narrow(0, experts * d, experts).add_(diff.sum(0).to(torch::kFloat64));
      local[params] += -(shares[k] * logp).sum().item<double>();
      local[params + 1] += static_cast<double>(x.size(0));
    }
    sum(local);
    const double tokens = std::max(local[params + 1].item<double>(), 1.0);
    const torch::Tensor grad = local.narrow(0, 0, params) / tokens;
    router.loss = local[params].item<double>() / tokens;
    m.mul_(beta1).add_(grad, 1 - beta1);
    v.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
    const double correction1 = 1 - std::pow(beta1, static_cast<double>(step));
    const double correction2 = 1 - std::pow(beta2, static_cast<double>(step));
    theta.sub_(options.lr * (m / correction1) / ((v / correction2).sqrt() + eps));
  }
  router.weight = theta.narrow(0, 0, experts * d).view({experts, d}).to(torch::kFloat).contiguous();
  router.bias = theta.narrow(0, experts * d, experts).to(torch::kFloat).contiguous();
  return router;
}

}  // namespace distill::moe
