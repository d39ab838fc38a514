#include "trainer/distill/logit_kl.h"

#include "common/error.h"

namespace distill::kd {

torch::Tensor logitKL(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                      double temperature) {
  DISTILL_CHECK(temperature > 0, "distill.temperature must be > 0, got ", temperature);
  DISTILL_CHECK(student_logits.dim() == 2, "logit KL: student logits must be [batch, classes], got ",
                student_logits.sizes());
  DISTILL_CHECK(teacher_logits.sizes() == student_logits.sizes(), "logit KL: teacher logits ",
                teacher_logits.sizes(), " do not match student logits ", student_logits.sizes(),
                " (do teacher and student share a vocabulary?)");

  const torch::Tensor student_log_p =
      torch::log_softmax(student_logits.to(torch::kFloat) / temperature, /*dim=*/1);
  const torch::Tensor teacher_log_p =
      torch::log_softmax(teacher_logits.detach().to(torch::kFloat) / temperature, /*dim=*/1);
  const torch::Tensor teacher_p = teacher_log_p.exp();
  // p * (log p - log q) is 0 * (-inf) = NaN where the teacher gives a class
  // probability 0; the limit is 0, so write it explicitly.
  const torch::Tensor terms = torch::where(teacher_p > 0, teacher_p * (teacher_log_p - student_log_p),
                                           torch::zeros_like(teacher_p));
  return terms.sum(/*dim=*/1) * (temperature * temperature);
}

}  // namespace distill::kd
