// First-order Taylor importance (Molchanov et al. 2019): the loss change from
// removing a weight is about |g * W|. Accumulated over the steps since the
// last mask update, then restarted, so every update ranks by recent evidence.
//
//   score = sum_{t since last update} |g_t * W_t|
//
//   sparsity: {criterion: taylor, warmup_steps: 20, interval: 10}
#pragma once

#include "trainer/sparsity/criterion.h"
#include "trainer/sparsity/tensor_table.h"

namespace distill::sparsity {

class TaylorCriterion : public ImportanceCriterion {
 public:
  std::string name() const override { return "taylor"; }
  void attach(const std::vector<NamedTensor>& params) override;
  void observe(const std::vector<NamedTensor>& params) override;
  torch::Tensor score(const std::string& param_name, const torch::Tensor& weight) const override;
  void onMasksUpdated() override;
  std::vector<NamedTensor> state() const override { return sums_.list(); }

 private:
  TensorTable sums_{"taylor/sums/"};
};

}  // namespace distill::sparsity
