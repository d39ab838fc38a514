#include "trainer/sparsity/pst_criterion.h"

#include <ATen/CPUGeneratorImpl.h>

#include "common/error.h"
#include "trainer/optim/adamw.h"

namespace distill::sparsity {

PstOptions PstOptions::from(const config::SparsitySpec& spec) {
  return {static_cast<int64_t>(spec.pst().rank()), spec.pst().beta(), spec.pst().alpha1(), spec.pst().alpha2(),
          spec.pst().lr_scale()};
}

PstCriterion::PstCriterion(PstOptions options) : options_(options) {
  DISTILL_CHECK(options_.rank >= 1, "sparsity.pst.rank must be >= 1, got ", options_.rank);
}

PstCriterion::~PstCriterion() = default;

void PstCriterion::attach(const std::vector<NamedTensor>& params) {
  torch::NoGradGuard no_grad;
  // The same seed on every worker: the factors start identical everywhere.
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(0x5057ULL);
  const int64_t r = options_.rank;
  for (const auto& p : params) {
    DISTILL_CHECK(p.tensor.dim() == 2, "sparsity.criterion pst: parameter \"", p.name, "\" has ", p.tensor.dim(),
                  " dimensions; PST factors a matrix, exclude it with sparsity.exclude");
    const int64_t out = p.tensor.size(0), in = p.tensor.size(1);
    const auto opts = p.tensor.options().requires_grad(false);
    auto normal = [&](std::vector<int64_t> shape) {
      return torch::empty(shape, torch::kFloat32).normal_(0.0, 0.02, gen).to(opts).requires_grad_(true);
    };
    auto zeros = [&](std::vector<int64_t> shape) { return torch::zeros(shape, opts).requires_grad_(true); };
    Factors f{p.tensor.detach().clone(), normal({out, r}), zeros({r, in}), normal({out, r}), zeros({r, in}),
              zeros({out}), zeros({in})};
    names_.push_back(p.name);
    frozen_.push_back({"pst/W0/" + p.name, f.w0});
    for (const auto& [key, t] : std::vector<std::pair<std::string, torch::Tensor>>{
             {"U", f.u}, {"V", f.v}, {"A", f.a}, {"B", f.b}, {"R", f.r}, {"C", f.c}}) {
      trainable_.push_back({"pst/" + key + "/" + p.name, t});
    }
    factors_.emplace(p.name, std::move(f));
  }
  optimizer_ = std::make_unique<optim::AdamW>(trainable_, optim::AdamWOptions{});
}

torch::Tensor PstCriterion::dense(const Factors& f) const {
  return f.w0 + options_.beta * torch::matmul(f.u, f.v);
}

// The gradients in closed form (no autograd graph: this runs every step).
// With d = W0 + beta U V and g = dL/dW_eff (W_eff = d * M, g already 0 where M is):
//   dU = beta g V^T,  dV = beta U^T g                        through W_eff
//   dS = g * d  (straight-through, as in movement pruning)
//   dA = alpha1 dS B^T,  dB = alpha1 A^T dS,  dR = alpha2 dS 1,  dC = alpha2 dS^T 1
void PstCriterion::observe(const std::vector<NamedTensor>& params) {
  torch::NoGradGuard no_grad;
  const double beta = options_.beta, alpha1 = options_.alpha1, alpha2 = options_.alpha2;
  for (const auto& p : params) {
    const torch::Tensor& g = p.tensor.grad();
    if (!g.defined()) continue;
    Factors& f = factors_.at(p.name);
    const torch::Tensor ds = g * dense(f);
    f.u.mutable_grad() = torch::matmul(g, f.v.t()).mul_(beta);
    f.v.mutable_grad() = torch::matmul(f.u.t(), g).mul_(beta);
    f.a.mutable_grad() = torch::matmul(ds, f.b.t()).mul_(alpha1);
    f.b.mutable_grad() = torch::matmul(f.a.t(), ds).mul_(alpha1);
    f.r.mutable_grad() = ds.sum(1).mul_(alpha2);
    f.c.mutable_grad() = ds.sum(0).mul_(alpha2);
  }
}

void PstCriterion::step(double lr) {
  optimizer_->step(lr * options_.lr_scale, nullptr);
  optimizer_steps_.fill_(optimizer_->stepCount());
}

torch::Tensor PstCriterion::score(const std::string& param_name, const torch::Tensor& /*weight*/) const {
  torch::NoGradGuard no_grad;
  const Factors& f = factors_.at(param_name);
  return dense(f).abs() + options_.alpha1 * torch::matmul(f.a, f.b) +
         options_.alpha2 * (f.r.unsqueeze(1) + f.c.unsqueeze(0));
}

torch::Tensor PstCriterion::effectiveWeight(const std::string& param_name) const {
  torch::NoGradGuard no_grad;
  return dense(factors_.at(param_name));
}

std::vector<NamedTensor> PstCriterion::state() const {
  std::vector<NamedTensor> out = frozen_;
  for (const auto& t : trainable_) out.push_back(t);
  for (auto& t : optimizer_->stateTensors()) out.push_back({"pst/adam/" + t.name, t.tensor});
  out.push_back({"pst/adam_steps", optimizer_steps_});
  return out;
}

void PstCriterion::load(const std::map<std::string, torch::Tensor>& saved, const std::string& file) {
  copyByName(saved, state(), file);
  std::map<std::string, torch::Tensor> moments;
  for (auto& t : optimizer_->stateTensors()) moments[t.name] = t.tensor.clone();
  optimizer_->loadState(moments, optimizer_steps_.item<int64_t>());
}

int64_t PstCriterion::trainableCount() const {
  int64_t n = 0;
  for (const auto& t : trainable_) n += t.tensor.numel();
  return n;
}

}  // namespace distill::sparsity
