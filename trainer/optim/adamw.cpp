#include "trainer/optim/adamw.h"

#include <cmath>
#include <set>

#include "common/error.h"

namespace distill::optim {

AdamWOptions adamwOptions(const config::OptimizerSpec& spec) {
  DISTILL_CHECK(spec.name() == "adamw", "optimizer.name: '", spec.name(), "' is not supported; use adamw");
  AdamWOptions o;
  o.beta1 = spec.beta1();
  o.beta2 = spec.beta2();
  o.eps = spec.eps();
  o.weight_decay = spec.weight_decay();
  o.decay_norms_and_biases = spec.decay_norms_and_biases();
  return o;
}

AdamW::AdamW(std::vector<NamedTensor> params, AdamWOptions options)
    : params_(std::move(params)), options_(options) {
  DISTILL_CHECK(options_.beta1 >= 0 && options_.beta1 < 1, "optimizer.beta1 must be in [0, 1), got ", options_.beta1);
  DISTILL_CHECK(options_.beta2 >= 0 && options_.beta2 < 1, "optimizer.beta2 must be in [0, 1), got ", options_.beta2);
  DISTILL_CHECK(options_.eps >= 0, "optimizer.eps must be >= 0, got ", options_.eps);
  DISTILL_CHECK(options_.weight_decay >= 0, "optimizer.weight_decay must be >= 0, got ", options_.weight_decay);
  std::set<std::string> seen;
  torch::NoGradGuard no_grad;
  for (const NamedTensor& p : params_) {
    DISTILL_ASSERT(seen.insert(p.name).second, "parameter listed twice: ", p.name);
    moments_.push_back({torch::zeros_like(p.tensor), torch::zeros_like(p.tensor)});
  }
  enforced_version_.assign(params_.size(), kNever);
}

void AdamW::step(double lr, const sparsity::MaskSet* masks, bool gradients_masked) {
  DISTILL_CHECK(std::isfinite(lr) && lr >= 0, "AdamW: learning rate must be finite and >= 0, got ", lr);
  torch::NoGradGuard no_grad;
  ++step_count_;
  const double t = static_cast<double>(step_count_);
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, t);

  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& w = params_[i].tensor;
    torch::Tensor grad = w.grad();
    if (!grad.defined()) continue;
    DISTILL_CHECK(!grad.is_sparse(), "AdamW: sparse gradient for ", params_[i].name, " is not supported");
    const torch::Tensor* mask = masks != nullptr ? masks->find(params_[i].name) : nullptr;
    // W, m and v of a pruned entry are exactly +0.0 once enforced, and with
    // g = 0 every update below leaves them +0.0; so they are re-zeroed only
    // when the masks changed (or were loaded) since this parameter's last step.
    const bool enforce =
        mask != nullptr && (enforced_masks_ != masks || enforced_version_[i] != masks->version());
    if (mask != nullptr && !gradients_masked) sparsity::zeroWhereMasked(grad, *mask);
    torch::Tensor& m = moments_[i].exp_avg;
    torch::Tensor& v = moments_[i].exp_avg_sq;

    if (options_.weight_decay != 0 && (w.dim() > 1 || options_.decay_norms_and_biases)) {
      w.mul_(1.0 - lr * options_.weight_decay);
    }
    m.mul_(options_.beta1).add_(grad, 1.0 - options_.beta1);
    v.mul_(options_.beta2).addcmul_(grad, grad, 1.0 - options_.beta2);
    const torch::Tensor denom = (v.sqrt() / std::sqrt(bias_correction2)).add_(options_.eps);
    w.addcdiv_(m, denom, -lr / bias_correction1);

    if (enforce) {
      const torch::Tensor pruned = mask->logical_not();
      w.masked_fill_(pruned, 0.0);
      m.masked_fill_(pruned, 0.0);
      v.masked_fill_(pruned, 0.0);
      enforced_version_[i] = masks->version();
    }
  }
  if (masks != enforced_masks_) {
    // Parameters skipped this step (no gradient) must be enforced on their next step.
    for (size_t i = 0; i < params_.size(); ++i) {
      if (!params_[i].tensor.grad().defined()) enforced_version_[i] = kNever;
    }
    enforced_masks_ = masks;
  }
}

void AdamW::zeroGrad() {
  for (NamedTensor& p : params_) {
    torch::Tensor grad = p.tensor.mutable_grad();
    if (grad.defined()) {
      grad.detach_();
      grad.zero_();
    }
  }
}

int64_t AdamW::stateBytes() const {
  int64_t bytes = 0;
  for (const Moments& m : moments_) bytes += m.exp_avg.nbytes() + m.exp_avg_sq.nbytes();
  return bytes;
}

std::vector<NamedTensor> AdamW::stateTensors() const {
  std::vector<NamedTensor> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out.push_back({"exp_avg/" + params_[i].name, moments_[i].exp_avg});
    out.push_back({"exp_avg_sq/" + params_[i].name, moments_[i].exp_avg_sq});
  }
  return out;
}

void AdamW::loadState(const std::map<std::string, torch::Tensor>& tensors, int64_t step_count) {
  DISTILL_CHECK(step_count >= 0, "optimizer state: step count must be >= 0, got ", step_count);
  // Check everything before copying anything, so a bad checkpoint leaves the state untouched.
  for (const NamedTensor& s : stateTensors()) {
    const auto it = tensors.find(s.name);
    DISTILL_CHECK(it != tensors.end(), "optimizer state: the checkpoint has no tensor '", s.name, "'");
    DISTILL_CHECK(it->second.sizes() == s.tensor.sizes(), "optimizer state: tensor '", s.name, "' has shape ",
                  it->second.sizes(), ", the model needs ", s.tensor.sizes());
  }
  torch::NoGradGuard no_grad;
  for (NamedTensor& s : stateTensors()) s.tensor.copy_(tensors.at(s.name));
  step_count_ = step_count;
  enforced_version_.assign(params_.size(), kNever);
}

}  // namespace distill::optim
