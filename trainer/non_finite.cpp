#include "trainer/non_finite.h"

#include <cmath>

#include "common/error.h"

namespace distill::trainer {
namespace {

// NaN + anything and inf - inf are NaN, a finite tensor's float64 sum is
// finite: one reduction per tensor tells whether it holds a non-finite value.
torch::Tensor sumOf(const torch::Tensor& t) { return t.detach().sum(torch::kDouble); }

std::string describe(const torch::Tensor& t) {
  const torch::Tensor d = t.detach();
  const int64_t nan = d.isnan().sum().item<int64_t>(), inf = d.isinf().sum().item<int64_t>();
  return std::to_string(nan) + " NaN and " + std::to_string(inf) + " infinite values of " + std::to_string(d.numel());
}

}  // namespace

const sparsity::NamedTensor* firstNonFinite(const std::vector<sparsity::NamedTensor>& tensors) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> sums;
  for (const auto& t : tensors) {
    if (t.tensor.defined() && t.tensor.numel() > 0 && t.tensor.is_floating_point()) sums.push_back(sumOf(t.tensor));
  }
  if (sums.empty() || std::isfinite(torch::stack(sums).sum().item<double>())) return nullptr;
  for (const auto& t : tensors) {
    if (t.tensor.defined() && t.tensor.numel() > 0 && t.tensor.is_floating_point() &&
        !std::isfinite(sumOf(t.tensor).item<double>())) {
      return &t;
    }
  }
  return nullptr;  // the total overflowed, no tensor did
}

void checkFinite(const std::vector<sparsity::NamedTensor>& tensors, const std::string& where) {
  const sparsity::NamedTensor* bad = firstNonFinite(tensors);
  DISTILL_CHECK(bad == nullptr, where, ": tensor \"", bad->name, "\" holds ", describe(bad->tensor));
}

void checkTeacherOutputs(const kd::TeacherOutputs& outputs, const std::vector<std::string>& names, uint64_t step) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> maxima;  // max() is NaN when any entry is
  for (const auto& l : outputs.logits) maxima.push_back(l.numel() ? l.max().to(torch::kDouble) : torch::zeros({}, torch::kDouble));
  for (const auto& p : outputs.passes) maxima.push_back(p.numel() ? p.max().to(torch::kDouble) : torch::zeros({}, torch::kDouble));
  for (const auto& t : outputs.top_k) {  // a residual is -inf when k = V; +inf or NaN is not a log-probability
    for (const torch::Tensor& part : {t.rows.log_probs, t.rows.residual}) {
      maxima.push_back(part.numel() ? part.max().to(torch::kDouble) : torch::zeros({}, part.options().dtype(torch::kDouble)));
    }
  }
  if (maxima.empty()) return;
  const double top = torch::stack(maxima).max().item<double>();
  if (!std::isnan(top) && top != INFINITY) return;
  for (size_t k = 0; k < outputs.logits.size(); ++k) {
    const std::string name = k < names.size() ? names[k] : std::to_string(k);
    const torch::Tensor l = outputs.logits[k].detach();
    const double m = l.numel() ? l.max().item<double>() : 0;
    DISTILL_CHECK(!std::isnan(m) && m != INFINITY, "step ", step, ": teacher '", name, "' returned logits with ",
                  describe(l), "; the step was stopped before the loss (no optimizer step, no checkpoint from it). "
                  "Check the teacher's file (distill evaluate --model on it) and its precision");
  }
  for (size_t k = 0; k < outputs.top_k.size(); ++k) {
    const std::string name = k < names.size() ? names[k] : std::to_string(k);
    const teachers::TopK& t = outputs.top_k[k].rows;
    for (const torch::Tensor& part : {t.log_probs, t.residual}) {
      const double m = part.numel() ? part.max().item<double>() : 0;
      DISTILL_CHECK(!std::isnan(m) && m != INFINITY, "step ", step, ": teacher '", name,
                    "' came as a top-k (a cache or a teacher rank) with ", describe(part),
                    "; the step was stopped before the loss (no optimizer step, no checkpoint from it). "
                    "Write the cache again (distill cache-teachers) or check the teacher rank's teacher");
    }
  }
  throw Error("step " + std::to_string(step) +
              ": a teacher's dropout passes (the mc_dropout combiner) hold NaN or +infinity; the step was stopped "
              "before the loss. Check the teachers' files and their precision");
}

void checkStepLoss(const kd::StepLoss& loss, uint64_t step) {
  const double total = loss.total.item<double>();
  if (std::isfinite(total)) return;
  std::string parts = "task " + std::to_string(loss.logits.task) + ", kd " + std::to_string(loss.logits.kd);
  for (const auto& term : loss.terms.terms) parts += ", " + term.name + " " + std::to_string(term.value);
  throw Error("step " + std::to_string(step) + ": the loss is " + std::to_string(total) + " (" + parts +
              ") though the teachers' outputs were finite; no optimizer step, no checkpoint from it. Check the "
              "student (distill evaluate --model) and the data, or lower optimizer.lr");
}

void checkGradientNorm(double norm, const std::vector<sparsity::NamedTensor>& params, uint64_t step) {
  if (std::isfinite(norm)) return;
  std::vector<sparsity::NamedTensor> grads;
  for (const auto& p : params) grads.push_back({p.name, p.tensor.grad()});
  const sparsity::NamedTensor* bad = firstNonFinite(grads);
  throw Error("step " + std::to_string(step) + ": the gradient norm is " + std::to_string(norm) + ": " +
              (bad ? "the gradient of \"" + bad->name + "\" holds " + describe(bad->tensor)
                   : std::string("a gradient held on another worker (sharded) is not finite")) +
              ". The optimizer did not step and no checkpoint is written from this state; the last committed "
              "checkpoint is intact. The loss was finite: a loss term's backward or an overflow produced it; lower "
              "optimizer.lr or set optimizer.max_grad_norm, and check the terms' settings");
}

}  // namespace distill::trainer
