#include "trainer/sparsity/child_tuning_d.h"

#include <cmath>

#include "common/error.h"
#include "trainer/sparsity/mask_ranking.h"

namespace distill::sparsity {

ChildTuningD::ChildTuningD(std::vector<NamedTensor> params, double keep, int64_t fisher_batches)
    : params_(std::move(params)), keep_(keep), fisher_batches_(fisher_batches) {
  DISTILL_CHECK(keep_ > 0 && keep_ <= 1, "sparsity.gradient_mask.keep must be in (0, 1], got ", keep_);
  DISTILL_CHECK(fisher_batches_ >= 1, "sparsity.gradient_mask.fisher_batches must be >= 1");
  for (const auto& p : params_) {
    fisher_.add(p.name, torch::zeros_like(p.tensor, torch::MemoryFormat::Contiguous));
    masks_.add(p.name, torch::ones_like(p.tensor, torch::MemoryFormat::Contiguous));
  }
}

void ChildTuningD::apply(int64_t step) {
  torch::NoGradGuard no_grad;
  if (!fixed()) {
    for (const auto& p : params_) {
      const torch::Tensor& g = p.tensor.grad();
      if (g.defined()) fisher_.at(p.name).addcmul_(g, g);
    }
    if (step + 1 >= fisher_batches_) fix();
    return;  // the estimation steps train the whole network
  }
  for (const auto& p : params_) {
    torch::Tensor g = p.tensor.grad();
    if (g.defined()) g.mul_(masks_.at(p.name));
  }
}

void ChildTuningD::fix() {
  std::vector<torch::Tensor> flat;
  for (const auto& t : fisher_.list()) flat.push_back(t.tensor.reshape({-1}).to(torch::kDouble));
  const torch::Tensor all = torch::cat(flat);
  const int64_t n = all.numel();
  const int64_t kept = static_cast<int64_t>(std::ceil(keep_ * static_cast<double>(n) - 1e-9));
  const torch::Tensor dropped = lowestK(all, n - kept);
  int64_t offset = 0;
  for (const auto& t : masks_.list()) {
    const int64_t k = t.tensor.numel();
    t.tensor.copy_(dropped.narrow(0, offset, k).logical_not().view(t.tensor.sizes()));
    offset += k;
  }
  fixed_.fill_(true);
}

std::vector<NamedTensor> ChildTuningD::state() const {
  std::vector<NamedTensor> out = fisher_.list();
  for (const auto& t : masks_.list()) out.push_back(t);
  out.push_back({"child_tuning_d/fixed", fixed_});
  return out;
}

}  // namespace distill::sparsity
