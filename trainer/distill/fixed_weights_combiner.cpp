#include "trainer/distill/fixed_weights_combiner.h"

#include "common/error.h"

namespace distill::kd {

FixedWeightsCombiner::FixedWeightsCombiner(const config::DistillSpec& spec) {
  double sum = 0;
  for (int k = 0; k < spec.teachers_size(); ++k) {
    const double w = spec.teachers(k).weight();
    DISTILL_CHECK(w >= 0, "distill.teachers[", k, "].weight must be >= 0, got ", w);
    normalised_.push_back(w);
    sum += w;
  }
  DISTILL_CHECK(sum > 0, "distill.combiner 'weights': the teachers' weights sum to 0; "
                         "give at least one teacher a positive distill.teachers[k].weight");
  for (double& w : normalised_) w /= sum;
}

torch::Tensor FixedWeightsCombiner::weights(const std::vector<torch::Tensor>& teacher_logits,
                                            const torch::Tensor& student_logits) const {
  DISTILL_CHECK(teacher_logits.size() == normalised_.size(), "weights combiner: got ",
                teacher_logits.size(), " teacher outputs but distill.teachers lists ",
                normalised_.size(), " teachers");
  const torch::Tensor column =
      torch::tensor(normalised_, torch::kDouble).to(student_logits.device(), torch::kFloat);
  return column.unsqueeze(1).expand({column.size(0), student_logits.size(0)}).contiguous();
}

}  // namespace distill::kd
