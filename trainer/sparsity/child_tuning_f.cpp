#include "trainer/sparsity/child_tuning_f.h"

#include <ATen/CPUGeneratorImpl.h>

#include "common/error.h"

namespace distill::sparsity {

ChildTuningF::ChildTuningF(std::vector<NamedTensor> params, double keep, uint64_t seed)
    : params_(std::move(params)), keep_(keep), seed_(seed) {
  DISTILL_CHECK(keep_ > 0 && keep_ <= 1, "sparsity.gradient_mask.keep must be in (0, 1], got ", keep_);
}

torch::Tensor ChildTuningF::draw(size_t index, int64_t step) const {
  // splitmix64-style mixing so nearby (step, index) pairs give unrelated streams.
  uint64_t x = seed_ ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(step + 1)) ^ (0xBF58476D1CE4E5B9ULL * (index + 1));
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(x);
  const torch::Tensor& p = params_[index].tensor;
  return torch::empty(p.sizes(), torch::kFloat32).bernoulli_(keep_, gen);
}

void ChildTuningF::apply(int64_t step) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor g = params_[i].tensor.grad();
    if (!g.defined()) continue;
    g.mul_(draw(i, step).to(g.device(), g.scalar_type()).div_(keep_));
  }
}

}  // namespace distill::sparsity
