// The `mc_dropout` combiner (MUKA-style uncertainty): each teacher runs M
// forward passes with dropout on; a teacher whose passes agree on a sample
// (low predictive entropy) is trusted on it.
//
//   u_kb = H( mean_m softmax(t^(m)_kb / T) )        T = distill.temperature
//   select:  w_kb = 1 for k = argmin_j u_jb (ties: the lowest index), else 0
//   softmax: w_kb = softmax_k(-u_kb / tau)           tau = distill.mc_dropout.temperature
//
//   distill:
//     combiner: mc_dropout
//     mc_dropout: {passes: 4, mode: select}
//
// The worker runs the passes (stochasticPasses() of them, teacher in train
// mode) and passes them in CombinerExtras::teacher_passes; the logit KL still
// uses the teacher's deterministic (eval-mode) logits.
#pragma once

#include "trainer/distill/combiner.h"

namespace distill::kd {

class McDropoutCombiner : public TeacherCombiner {
 public:
  // Throws distill::Error unless temperature > 0, spec.passes() >= 1,
  // spec.mode() is "select" or "softmax" and spec.temperature() > 0.
  McDropoutCombiner(double temperature, const config::McDropoutSpec& spec);
  std::string name() const override { return "mc_dropout"; }
  int stochasticPasses() const override { return passes_; }
  // Throws: this combiner needs the passes; call weightsWith.
  torch::Tensor weights(const std::vector<torch::Tensor>& teacher_logits,
                        const torch::Tensor& student_logits) const override;
  torch::Tensor weightsWith(const std::vector<torch::Tensor>& teacher_logits, const torch::Tensor& student_logits,
                            const CombinerExtras& extras) const override;

  // u [K,B]: the entropy of each teacher's mean softened prediction over its
  // passes ([M,B,C] each).
  torch::Tensor uncertainty(const std::vector<torch::Tensor>& teacher_passes) const;

 private:
  double temperature_;
  int passes_;
  bool select_;
  double mode_temperature_;
};

}  // namespace distill::kd
