#include "trainer/distill/competency_combiner.h"

#include "common/error.h"
#include "trainer/distill/logit_kl.h"

namespace distill::kd {

CompetencyCombiner::CompetencyCombiner(double temperature, double competency_temperature)
    : temperature_(temperature), competency_temperature_(competency_temperature) {
  DISTILL_CHECK(temperature > 0, "distill.temperature must be > 0, got ", temperature);
  DISTILL_CHECK(competency_temperature > 0, "distill.competency.temperature must be > 0, got ",
                competency_temperature);
}

torch::Tensor CompetencyCombiner::weights(const std::vector<torch::Tensor>& teacher_logits,
                                          const torch::Tensor& student_logits) const {
  DISTILL_CHECK(!teacher_logits.empty(), "competency combiner: no teacher logits");
  torch::NoGradGuard no_grad;
  const torch::Tensor student = student_logits.detach();
  std::vector<torch::Tensor> kl;
  for (const torch::Tensor& t : teacher_logits) {
    // logitKL scales by T^2 for the loss; undo it to rank teachers by the plain KL.
    kl.push_back(logitKL(student, t, temperature_) / (temperature_ * temperature_));
  }
  return torch::softmax(-torch::stack(kl) / competency_temperature_, /*dim=*/0);
}

}  // namespace distill::kd
