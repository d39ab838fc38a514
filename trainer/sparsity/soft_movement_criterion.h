// Movement pruning, soft variant (Sanh, Wolf & Rush 2020): no target count;
// an entry is kept while its movement score exceeds a threshold, and a
// regulariser lambda * sum sigmoid(S) pulls every score down, so sparsity
// grows with lambda and training time instead of following a schedule.
//
//   S <- S - score_lr * (g * W + lambda * sigmoid(S) * (1 - sigmoid(S)))   every step
//   keep where S > threshold;   S starts at score_init
//
//   sparsity: {criterion: soft_movement, schedule: constant, interval: 1, warmup_steps: 1,
//              threshold: 0.0, score_init: 0.01, score_lr: 10, regularizer: 0.1}
#pragma once

#include "trainer/sparsity/criterion.h"
#include "trainer/sparsity/tensor_table.h"

namespace distill::sparsity {

class SoftMovementCriterion : public ImportanceCriterion {
 public:
  SoftMovementCriterion(double threshold, double score_init, double score_lr, double regularizer)
      : threshold_(threshold), score_init_(score_init), score_lr_(score_lr), regularizer_(regularizer) {}
  std::string name() const override { return "soft_movement"; }
  void attach(const std::vector<NamedTensor>& params) override;
  void observe(const std::vector<NamedTensor>& params) override;
  torch::Tensor score(const std::string& param_name, const torch::Tensor& weight) const override;
  std::optional<double> threshold() const override { return threshold_; }
  std::vector<NamedTensor> state() const override { return scores_.list(); }

 private:
  double threshold_, score_init_, score_lr_, regularizer_;
  TensorTable scores_{"soft_movement/scores/"};
};

}  // namespace distill::sparsity
