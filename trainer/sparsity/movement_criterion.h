// Movement pruning, hard variant (Sanh, Wolf & Rush 2020): keep the weights
// moving away from zero. The mask is the top-k of scores S, and the
// straight-through estimator gives dL/dS = g * W, so with a unit step
//
//   S <- S - g * W        every step (S starts at 0)
//   score = S
//
// g is the all-reduced gradient of the weight the model computed with. Under
// this project's mask semantics a pruned weight is exactly 0, so its score
// stops moving while it is pruned (docs/sparsity.md).
//
//   sparsity: {criterion: movement, schedule: cubic, final_sparsity: 0.9, warmup_steps: 10}
#pragma once

#include "trainer/sparsity/criterion.h"
#include "trainer/sparsity/tensor_table.h"

namespace distill::sparsity {

class MovementCriterion : public ImportanceCriterion {
 public:
  std::string name() const override { return "movement"; }
  void attach(const std::vector<NamedTensor>& params) override;
  void observe(const std::vector<NamedTensor>& params) override;
  torch::Tensor score(const std::string& param_name, const torch::Tensor& weight) const override;
  std::vector<NamedTensor> state() const override { return scores_.list(); }

 private:
  TensorTable scores_{"movement/scores/"};
};

}  // namespace distill::sparsity
