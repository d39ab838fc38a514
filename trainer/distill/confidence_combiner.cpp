#include "trainer/distill/confidence_combiner.h"

#include "common/error.h"

namespace distill::kd {

ConfidenceCombiner::ConfidenceCombiner(double temperature, double confidence_temperature)
    : temperature_(temperature), confidence_temperature_(confidence_temperature) {
  DISTILL_CHECK(temperature > 0, "distill.temperature must be > 0, got ", temperature);
  DISTILL_CHECK(confidence_temperature > 0, "distill.confidence_temperature must be > 0, got ",
                confidence_temperature);
}

torch::Tensor ConfidenceCombiner::weights(const std::vector<torch::Tensor>& teacher_logits,
                                          const torch::Tensor& student_logits) const {
  DISTILL_CHECK(!teacher_logits.empty(), "confidence combiner: no teacher logits");
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> neg_entropy;
  neg_entropy.reserve(teacher_logits.size());
  for (const torch::Tensor& t : teacher_logits) {
    DISTILL_CHECK(t.dim() == 2 && t.size(0) == student_logits.size(0),
                  "confidence combiner: teacher logits must be [batch, classes] with batch ",
                  student_logits.size(0), ", got ", t.sizes());
    const torch::Tensor log_p = torch::log_softmax(t.to(torch::kFloat) / temperature_, /*dim=*/1);
    const torch::Tensor p = log_p.exp();
    // sum p log p, with 0 log 0 = 0 for classes a top-k cache left at -inf.
    const torch::Tensor p_log_p = torch::where(p > 0, p * log_p, torch::zeros_like(p));
    neg_entropy.push_back(p_log_p.sum(/*dim=*/1));  // -H, [B]
  }
  return torch::softmax(torch::stack(neg_entropy) / confidence_temperature_, /*dim=*/0);
}

}  // namespace distill::kd
