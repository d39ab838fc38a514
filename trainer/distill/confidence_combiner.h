// The `confidence` combiner: per sample, a teacher that is surer of its
// answer (lower entropy of its softened distribution) counts more.
//
//   w_kb = softmax_k( -H(softmax(t_kb / T)) / tau )
//
// with T = distill.temperature and tau = distill.confidence_temperature.
// Small tau approaches "pick the most confident teacher", large tau the mean.
//
//   distill: {combiner: confidence, confidence_temperature: 0.5}
#pragma once

#include "trainer/distill/combiner.h"

namespace distill::kd {

class ConfidenceCombiner : public TeacherCombiner {
 public:
  // Throws distill::Error unless both temperatures are > 0.
  ConfidenceCombiner(double temperature, double confidence_temperature);
  std::string name() const override { return "confidence"; }
  torch::Tensor weights(const std::vector<torch::Tensor>& teacher_logits,
                        const torch::Tensor& student_logits) const override;

 private:
  double temperature_;
  double confidence_temperature_;
};

}  // namespace distill::kd
