#include "trainer/distill/divergence.h"

#include <cmath>

#include "common/error.h"

namespace distill::kd {

const std::vector<std::string>& divergenceNames() {
  static const std::vector<std::string> names = {"forward_kl", "reverse_kl", "jsd", "skew_kl", "skew_reverse_kl", "tvd"};
  return names;
}

Divergence divergenceOf(const config::DistillSpec& spec) {
  Divergence d;
  d.name = spec.divergence().empty() ? "forward_kl" : spec.divergence();
  d.temperature = spec.temperature();
  if (spec.has_beta()) d.beta = spec.beta();
  if (spec.has_alpha()) d.alpha = spec.alpha();
  return d;
}

torch::Tensor klFromLogProbs(const torch::Tensor& log_a, const torch::Tensor& log_b) {
  // a (log a - log b) is 0 * (-inf - x) = NaN where a is 0; the limit is 0.
  const torch::Tensor a = log_a.exp();
  return torch::where(a > 0, a * (log_a - log_b), torch::zeros_like(a)).sum(/*dim=*/-1);
}

torch::Tensor qTimes(const torch::Tensor& log_q, const torch::Tensor& x) {
  const torch::Tensor q = log_q.exp();
  return torch::where(q > 0, q * x, torch::zeros_like(q));
}

torch::Tensor logMixture(const torch::Tensor& log_a, double w_a, const torch::Tensor& log_b, double w_b) {
  if (w_a <= 0) return log_b + std::log(w_b);
  if (w_b <= 0) return log_a + std::log(w_a);
  return torch::logaddexp(log_a + std::log(w_a), log_b + std::log(w_b));
}

torch::Tensor divergenceOfLogProbs(const torch::Tensor& log_q, const torch::Tensor& log_p, const Divergence& d) {
  if (d.name == "forward_kl") return forwardKL(log_q, log_p);
  if (d.name == "reverse_kl") return reverseKL(log_q, log_p);
  if (d.name == "jsd") return generalizedJSD(log_q, log_p, d.beta);
  if (d.name == "skew_kl") return skewKL(log_q, log_p, d.alpha);
  if (d.name == "skew_reverse_kl") return skewReverseKL(log_q, log_p, d.alpha);
  if (d.name == "tvd") return totalVariation(log_q, log_p);
  DISTILL_FAIL("distill.divergence: unknown divergence \"", d.name, "\"");
}

torch::Tensor divergenceGradientTerms(const torch::Tensor& log_q, const torch::Tensor& log_p, const Divergence& d) {
  if (d.name == "forward_kl") return forwardKLGradientTerms(log_q, log_p);
  if (d.name == "reverse_kl") return reverseKLGradientTerms(log_q, log_p);
  if (d.name == "jsd") return generalizedJSDGradientTerms(log_q, log_p, d.beta);
  if (d.name == "skew_kl") return skewKLGradientTerms(log_q, log_p, d.alpha);
  if (d.name == "skew_reverse_kl") return skewReverseKLGradientTerms(log_q, log_p, d.alpha);
  if (d.name == "tvd") return totalVariationGradientTerms(log_q, log_p);
  DISTILL_FAIL("distill.divergence: unknown divergence \"", d.name, "\"");
}

void checkTeacherLogits(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits) {
  DISTILL_CHECK(student_logits.dim() == 2, "divergence: student logits must be [rows, classes], got ",
                student_logits.sizes());
  DISTILL_CHECK(teacher_logits.sizes() == student_logits.sizes(), "divergence: teacher logits ", teacher_logits.sizes(),
                " do not match student logits ", student_logits.sizes(), " (do teacher and student share a vocabulary?)");
}

torch::Tensor divergenceRows(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                             const Divergence& d) {
  DISTILL_CHECK(d.temperature > 0, "distill.temperature must be > 0, got ", d.temperature);
  checkTeacherLogits(student_logits, teacher_logits);
  const double t = d.temperature;
  const torch::Tensor log_q = torch::log_softmax(student_logits.to(torch::kFloat) / t, /*dim=*/-1);
  const torch::Tensor log_p = torch::log_softmax(teacher_logits.detach().to(torch::kFloat) / t, /*dim=*/-1);
  const torch::Tensor rows = divergenceOfLogProbs(log_q, log_p, d);
  return rows * (t * t);
}

}  // namespace distill::kd
