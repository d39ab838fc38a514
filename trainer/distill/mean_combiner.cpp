#include "trainer/distill/mean_combiner.h"

#include "common/error.h"

namespace distill::kd {

torch::Tensor MeanCombiner::weights(const std::vector<torch::Tensor>& teacher_logits,
                                    const torch::Tensor& student_logits) const {
  DISTILL_CHECK(!teacher_logits.empty(), "mean combiner: no teacher logits");
  const auto teachers = static_cast<int64_t>(teacher_logits.size());
  const int64_t batch = student_logits.size(0);
  return torch::full({teachers, batch}, 1.0 / static_cast<double>(teachers),
                     student_logits.options().dtype(torch::kFloat));
}

}  // namespace distill::kd
