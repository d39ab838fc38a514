// Child-Tuning_D (task-driven): the child network is the top p fraction of
// entries by Fisher information, estimated from the first N steps' gradients
// and fixed afterwards.
//
//   F = sum_{t < N} g_t^2        (g: the all-reduced gradient of the global batch)
//   G = 1 for the ceil(p * n) highest F over all selected entries (one global
//       percentile, ties to the lower index), 0 elsewhere
//   steps t <  N: gradients pass unmasked while F accumulates
//   steps t >= N: g <- g * G
//
//   sparsity: {gradient_mask: {kind: child_tuning_d, keep: 0.3, fisher_batches: 8}}
#pragma once

#include "trainer/sparsity/gradient_mask.h"
#include "trainer/sparsity/tensor_table.h"

namespace distill::sparsity {

class ChildTuningD : public GradientMask {
 public:
  ChildTuningD(std::vector<NamedTensor> params, double keep, int64_t fisher_batches);
  std::string name() const override { return "child_tuning_d"; }
  void apply(int64_t step) override;
  std::vector<NamedTensor> state() const override;
  // The fixed mask of parameter `name` (all ones until it is fixed).
  const torch::Tensor& mask(const std::string& name) const { return masks_.at(name); }
  bool fixed() const { return fixed_.item<bool>(); }

 private:
  void fix();
  std::vector<NamedTensor> params_;
  double keep_;
  int64_t fisher_batches_;
  TensorTable fisher_{"child_tuning_d/fisher/"};
  TensorTable masks_{"child_tuning_d/mask/"};
  torch::Tensor fixed_ = torch::zeros({1}, torch::kBool);
};

}  // namespace distill::sparsity
