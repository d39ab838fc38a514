// Child-Tuning_F (task-free): every step each gradient entry is kept with
// probability p and scaled by 1/p, so the expected gradient is unchanged.
//
//   g <- g * B / p,   B ~ Bernoulli(p), drawn from a CPU generator
//                      seeded by (seed, step, parameter index)
//
// Seeding by step makes the draw the same on every worker, after a resume,
// and for any number of workers, without keeping generator state.
//
//   sparsity: {gradient_mask: {kind: child_tuning_f, keep: 0.3}}
#pragma once

#include "trainer/sparsity/gradient_mask.h"

namespace distill::sparsity {

class ChildTuningF : public GradientMask {
 public:
  ChildTuningF(std::vector<NamedTensor> params, double keep, uint64_t seed);
  std::string name() const override { return "child_tuning_f"; }
  void apply(int64_t step) override;
  // The 0/1 draw for parameter `index` at `step` (before the 1/p scaling), on the CPU.
  torch::Tensor draw(size_t index, int64_t step) const;

 private:
  std::vector<NamedTensor> params_;
  double keep_;
  uint64_t seed_;
};

}  // namespace distill::sparsity
