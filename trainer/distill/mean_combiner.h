// The `mean` combiner: every teacher counts the same, w_kb = 1/K.
//
//   distill: {combiner: mean}
#pragma once

#include "trainer/distill/combiner.h"

namespace distill::kd {

class MeanCombiner : public TeacherCombiner {
 public:
  std::string name() const override { return "mean"; }
  bool readsTeacherLogits() const override { return false; }
  torch::Tensor weights(const std::vector<torch::Tensor>& teacher_logits,
                        const torch::Tensor& student_logits) const override;
};

}  // namespace distill::kd
