// Empirical Fisher importance (as in Child-Tuning_D and Fisher pruning): the
// mean squared gradient over the steps since the last mask update.
//
//   score = (1/n) sum_{t since last update} g_t^2
//
// g is the all-reduced gradient of the global batch, so the score is the same
// on every worker and for any number of workers sharing that batch.
//
//   sparsity: {criterion: fisher, warmup_steps: 20, interval: 10}
#pragma once

#include "trainer/sparsity/criterion.h"
#include "trainer/sparsity/tensor_table.h"

namespace distill::sparsity {

class FisherCriterion : public ImportanceCriterion {
 public:
  std::string name() const override { return "fisher"; }
  void attach(const std::vector<NamedTensor>& params) override;
  void observe(const std::vector<NamedTensor>& params) override;
  torch::Tensor score(const std::string& param_name, const torch::Tensor& weight) const override;
  void onMasksUpdated() override;
  std::vector<NamedTensor> state() const override;

 private:
  TensorTable sums_{"fisher/sums/"};
  torch::Tensor count_ = torch::zeros({1}, torch::kFloat64);  // steps observed since the last update
};

}  // namespace distill::sparsity
