// Learned masks (Zhao et al. 2020, "Masking as an efficient alternative to
// finetuning"): the weights stay frozen; a real-valued score per entry is
// trained, and an entry is kept while its score exceeds a threshold. The
// straight-through estimator passes the gradient of the binarised mask to the
// scores:
//
//   W_eff = W0 * M,   M = 1[S > threshold]
//   dL/dS = g * W0    (g = dL/dW_eff), scores trained by Adam at score_lr
//
// Scores start at score_init (above the threshold: everything kept), so
// sparsity is learned from the task rather than scheduled.
//
//   sparsity: {criterion: learned, schedule: constant, interval: 1,
//              threshold: 0.005, score_init: 0.01, score_lr: 0.01}
#pragma once

#include <memory>

#include "trainer/sparsity/criterion.h"
#include "trainer/sparsity/tensor_table.h"

namespace distill::optim {
class AdamW;
}

namespace distill::sparsity {

class LearnedMaskCriterion : public ImportanceCriterion {
 public:
  LearnedMaskCriterion(double threshold, double score_init, double score_lr);
  ~LearnedMaskCriterion() override;
  std::string name() const override { return "learned"; }
  void attach(const std::vector<NamedTensor>& params) override;
  void observe(const std::vector<NamedTensor>& params) override;
  torch::Tensor score(const std::string& param_name, const torch::Tensor& weight) const override;
  std::optional<double> threshold() const override { return threshold_; }
  bool freezesWeights() const override { return true; }
  void step(double lr) override;
  torch::Tensor effectiveWeight(const std::string& param_name) const override;
  std::vector<NamedTensor> state() const override;
  void load(const std::map<std::string, torch::Tensor>& saved, const std::string& file) override;
  int64_t trainableCount() const override;

 private:
  double threshold_, score_init_, score_lr_;
  TensorTable weights_{"learned/W0/"};
  TensorTable scores_{"learned/scores/"};
  std::unique_ptr<optim::AdamW> optimizer_;
  torch::Tensor optimizer_steps_ = torch::zeros({1}, torch::kInt64);
};

}  // namespace distill::sparsity
