// Gradient masks (Child-Tuning, Xu et al. 2021): the gradient of a chosen
// "child network" reaches the optimizer, the rest is zeroed. Unlike a weight
// mask, the weights themselves are never zeroed, and Adam's moments of a
// masked entry are not reset: they decay (m <- b1 m, v <- b2 v) and keep
// moving the weight by m/sqrt(v) (docs/sparsity.md, tested in
// gradient_mask_test.cpp).
//
//   auto mask = sparsity::makeGradientMask(job.sparsity().gradient_mask(), params, job.seed());
//   // after the all-reduce, before clipping and the optimizer:
//   if (mask) mask->apply(step);
//
// The mask is the same on every worker: Child-Tuning_F draws it from a seed
// shared by all workers and the step number; Child-Tuning_D ranks Fisher
// scores of the all-reduced gradients. Adding one: one file with a
// GradientMask subclass and one line in gradient_mask_registry.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proto/config.pb.h"
#include "trainer/sparsity/named_tensor.h"

namespace distill::sparsity {

class GradientMask {
 public:
  virtual ~GradientMask() = default;
  virtual std::string name() const = 0;
  // Multiplies the gradients of the selected parameters in place; `step` is
  // the 0-based optimizer step about to be taken.
  virtual void apply(int64_t step) = 0;
  // State to checkpoint (live tensors) and its loading.
  virtual std::vector<NamedTensor> state() const { return {}; }
  virtual void load(const std::map<std::string, torch::Tensor>& saved, const std::string& file);
};

// Null when spec.kind() is empty. `params` are the model's parameters; the
// mask applies to those spec.include/exclude select. Throws distill::Error
// naming sparsity.gradient_mask.* on a bad kind, keep or selection.
std::unique_ptr<GradientMask> makeGradientMask(const config::GradientMaskSpec& spec,
                                               const std::vector<NamedTensor>& params, uint64_t seed);

}  // namespace distill::sparsity
