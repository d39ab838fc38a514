// The `competency` combiner (after Dynamic KD, Li et al. 2021): per sample,
// the student adopts the teachers it can currently follow. A teacher whose
// softened prediction is close to the student's (small KL) counts more; one
// far out of the student's reach on that sample counts less. As the student
// improves, the weights follow its competency rather than a fixed rule.
//
//   w_kb = softmax_k( -KL(softmax(t_kb / T) || softmax(s_b / T)) / tau )
//
// with T = distill.temperature and tau = distill.competency.temperature (no
// T^2 factor: the KL here ranks teachers, it is not a loss). Small tau
// approaches "the closest teacher only", large tau the mean.
//
//   distill: {combiner: competency, competency: {temperature: 0.5}}
#pragma once

#include "trainer/distill/combiner.h"

namespace distill::kd {

class CompetencyCombiner : public TeacherCombiner {
 public:
  // Throws distill::Error unless both temperatures are > 0.
  CompetencyCombiner(double temperature, double competency_temperature);
  std::string name() const override { return "competency"; }
  torch::Tensor weights(const std::vector<torch::Tensor>& teacher_logits,
                        const torch::Tensor& student_logits) const override;

 private:
  double temperature_;
  double competency_temperature_;
};

}  // namespace distill::kd
