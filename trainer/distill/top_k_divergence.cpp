#include "trainer/distill/top_k_divergence.h"

#include <cmath>
#include <limits>

#include "common/error.h"

namespace distill::kd {

void checkTopK(const teachers::TopK& teacher, const torch::Tensor& student_logits, int64_t vocab) {
  DISTILL_CHECK(student_logits.dim() == 2 && student_logits.size(1) == vocab, "top-k divergence: student logits ",
                student_logits.sizes(), " are not [rows, ", vocab, "] (the teacher's vocabulary)");
  const int64_t rows = student_logits.size(0);
  DISTILL_CHECK(teacher.log_probs.dim() == 2 && teacher.log_probs.size(0) == rows &&
                    teacher.indices.sizes() == teacher.log_probs.sizes() && teacher.residual.dim() == 1 &&
                    teacher.residual.size(0) == rows,
                "top-k divergence: the teacher's top-k is log_probs ", teacher.log_probs.sizes(), ", indices ",
                teacher.indices.sizes(), ", residual ", teacher.residual.sizes(), "; expected [", rows, ", k], [",
                rows, ", k], [", rows, "]");
  const int64_t k = teacher.log_probs.size(1);
  DISTILL_CHECK(k >= 1 && k <= vocab, "top-k divergence: ", k, " tokens kept of a vocabulary of ", vocab);
  // The fused loss indexes the student's rows by these ids: a corrupt one is named, never read.
  const torch::Tensor outside = (teacher.indices < 0).logical_or_(teacher.indices >= vocab);
  if (outside.any().item<bool>()) {
    const torch::Tensor at = outside.nonzero()[0];
    DISTILL_FAIL("top-k divergence: the teacher's token id ", teacher.indices[at[0]][at[1]].item<int64_t>(),
                 " (row ", at[0].item<int64_t>(), ", entry ", at[1].item<int64_t>(), ") is outside [0, ", vocab, ")");
  }
}

SoftenedTopK softenTopK(const teachers::TopK& teacher, int64_t vocab, double t) {
  DISTILL_CHECK(t > 0, "distill.temperature must be > 0, got ", t);
  const int64_t k = teacher.log_probs.size(1);
  SoftenedTopK p;
  p.indices = teacher.indices.to(torch::kLong);
  const torch::Tensor kept = teacher.log_probs.detach().to(torch::kFloat) / t;  // [R, k]
  if (k == vocab) {  // no tail: the k values are the whole distribution
    p.log_p_kept = kept - kept.logsumexp(/*dim=*/-1, /*keepdim=*/true);
    return p;
  }
  const double log_outside = std::log(static_cast<double>(vocab - k));
  // A residual of -inf (no mass outside the k; topK never writes one for k < V) counts as the smallest
  // float, as topK clamps it: a tail of exactly 0 would make the tail sum and its correction inf - inf.
  const torch::Tensor residual =
      teacher.residual.detach().to(torch::kFloat).clamp_min(std::log(std::numeric_limits<float>::min()));
  // One token of the tail, softened: log(residual / (V - k)) / T, then normalised with the k values.
  const torch::Tensor tail = ((residual - log_outside) / t).unsqueeze(-1);  // [R, 1]
  const torch::Tensor log_z = torch::logaddexp(kept.logsumexp(/*dim=*/-1, /*keepdim=*/true), tail + log_outside);
  p.log_p_kept = kept - log_z;
  p.log_p_tail = tail - log_z;
  return p;
}

torch::Tensor topKDivergenceOfLogProbs(const torch::Tensor& log_q, const SoftenedTopK& p, const Divergence& d) {
  const torch::Tensor log_q_kept = log_q.gather(/*dim=*/-1, p.indices);  // [R, k]
  if (!p.log_p_tail.defined()) return divergenceOfLogProbs(log_q_kept, p.log_p_kept, d);
  const torch::Tensor every = divergenceOfLogProbs(log_q, p.log_p_tail, d);
  const torch::Tensor correction =
      divergenceOfLogProbs(log_q_kept, p.log_p_kept, d) - divergenceOfLogProbs(log_q_kept, p.log_p_tail, d);
  return every + correction;
}

torch::Tensor topKGradientTerms(const torch::Tensor& log_q, const SoftenedTopK& p, const Divergence& d) {
  const torch::Tensor kept = divergenceGradientTerms(log_q.gather(/*dim=*/-1, p.indices), p.log_p_kept, d);
  const torch::Tensor every =
      p.log_p_tail.defined() ? divergenceGradientTerms(log_q, p.log_p_tail, d) : torch::zeros_like(log_q);
  return every.scatter(/*dim=*/-1, p.indices, kept);
}

torch::Tensor topKDivergenceRows(const torch::Tensor& student_logits, const teachers::TopK& teacher, int64_t vocab,
                                 const Divergence& d) {
  DISTILL_CHECK(d.temperature > 0, "distill.temperature must be > 0, got ", d.temperature);
  checkTopK(teacher, student_logits, vocab);
  const double t = d.temperature;
  const torch::Tensor log_q = torch::log_softmax(student_logits.to(torch::kFloat) / t, /*dim=*/-1);  // [R, V]
  return topKDivergenceOfLogProbs(log_q, softenTopK(teacher, vocab, t), d) * (t * t);
}

}  // namespace distill::kd
