#include "trainer/sparsity/learned_mask_criterion.h"

#include "trainer/optim/adamw.h"

namespace distill::sparsity {

LearnedMaskCriterion::LearnedMaskCriterion(double threshold, double score_init, double score_lr)
    : threshold_(threshold), score_init_(score_init), score_lr_(score_lr) {}

LearnedMaskCriterion::~LearnedMaskCriterion() = default;

void LearnedMaskCriterion::attach(const std::vector<NamedTensor>& params) {
  torch::NoGradGuard no_grad;
  for (const auto& p : params) {
    weights_.add(p.name, p.tensor.detach().clone());
    scores_.add(p.name, torch::full_like(p.tensor, score_init_, torch::MemoryFormat::Contiguous).requires_grad_(true));
  }
  optimizer_ = std::make_unique<optim::AdamW>(scores_.list(), optim::AdamWOptions{});
}

void LearnedMaskCriterion::observe(const std::vector<NamedTensor>& params) {
  torch::NoGradGuard no_grad;
  for (const auto& p : params) {
    const torch::Tensor& g = p.tensor.grad();
    if (g.defined()) scores_.at(p.name).mutable_grad() = g * weights_.at(p.name);
  }
}

void LearnedMaskCriterion::step(double /*lr*/) {
  optimizer_->step(score_lr_, nullptr);
  optimizer_steps_.fill_(optimizer_->stepCount());
}

torch::Tensor LearnedMaskCriterion::score(const std::string& param_name, const torch::Tensor& /*weight*/) const {
  return scores_.at(param_name).detach().clone();
}

torch::Tensor LearnedMaskCriterion::effectiveWeight(const std::string& param_name) const {
  return weights_.at(param_name);
}

std::vector<NamedTensor> LearnedMaskCriterion::state() const {
  std::vector<NamedTensor> out = weights_.list();
  for (const auto& t : scores_.list()) out.push_back(t);
  for (auto& t : optimizer_->stateTensors()) out.push_back({"learned/adam/" + t.name, t.tensor});
  out.push_back({"learned/adam_steps", optimizer_steps_});
  return out;
}

void LearnedMaskCriterion::load(const std::map<std::string, torch::Tensor>& saved, const std::string& file) {
  copyByName(saved, state(), file);
  std::map<std::string, torch::Tensor> moments;
  for (auto& t : optimizer_->stateTensors()) moments[t.name] = t.tensor.clone();
  optimizer_->loadState(moments, optimizer_steps_.item<int64_t>());
}

int64_t LearnedMaskCriterion::trainableCount() const {
  int64_t n = 0;
  for (const auto& t : scores_.list()) n += t.tensor.numel();
  return n;
}

}  // namespace distill::sparsity
