// The `weights` combiner: fixed per-teacher weights from the config
// (distill.teachers[k].weight), normalised to sum to 1, the same for every
// sample. Use it when one teacher is known to be better.
//
//   distill:
//     combiner: weights
//     teachers: [{path: big.pt, weight: 3}, {path: small.pt, weight: 1}]   # 0.75 / 0.25
#pragma once

#include <vector>

#include "trainer/distill/combiner.h"

namespace distill::kd {

class FixedWeightsCombiner : public TeacherCombiner {
 public:
  // Throws distill::Error if a weight is negative or all are 0.
  explicit FixedWeightsCombiner(const config::DistillSpec& spec);
  std::string name() const override { return "weights"; }
  bool readsTeacherLogits() const override { return false; }
  torch::Tensor weights(const std::vector<torch::Tensor>& teacher_logits,
                        const torch::Tensor& student_logits) const override;

 private:
  std::vector<double> normalised_;
};

}  // namespace distill::kd
