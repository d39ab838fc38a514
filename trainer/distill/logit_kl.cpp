#include "trainer/distill/logit_kl.h"

#include "trainer/distill/divergence.h"

namespace distill::kd {

torch::Tensor logitKL(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                      double temperature) {
  Divergence forward;
  forward.temperature = temperature;
  return divergenceRows(student_logits, teacher_logits, forward);
}

}  // namespace distill::kd
