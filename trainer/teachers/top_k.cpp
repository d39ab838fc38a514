#include "trainer/teachers/top_k.h"

#include <cmath>
#include <limits>

#include "common/error.h"

namespace distill::teachers {

TopK topK(const torch::Tensor& logits, int64_t k) {
  DISTILL_CHECK(k >= 1, "teacher top-k: k must be >= 1, got ", k);
  const torch::Tensor log_p = torch::log_softmax(logits.to(torch::kFloat), /*dim=*/-1);
  const int64_t kept = std::min<int64_t>(k, log_p.size(-1));
  auto [values, indices] = log_p.topk(kept, /*dim=*/-1, /*largest=*/true, /*sorted=*/true);
  // log(1 - sum p): log1p of -sum, clamped so rounding cannot make it the log of a negative number.
  torch::Tensor outside = (1.0 - values.exp().sum(/*dim=*/-1)).clamp_min(0.0);
  torch::Tensor residual = kept == log_p.size(-1)
                               ? torch::full_like(outside, -std::numeric_limits<float>::infinity())
                               : outside.clamp_min(std::numeric_limits<float>::min()).log();
  return {values, indices.to(torch::kInt32), residual};
}

TopK topKRows(const TopK& t) {
  if (t.log_probs.dim() <= 2) return t;
  const int64_t k = t.log_probs.size(-1);
  return {t.log_probs.reshape({-1, k}), t.indices.reshape({-1, k}), t.residual.reshape({-1})};
}

torch::Tensor denseLogits(const TopK& t, int64_t vocab) {
  const int64_t k = t.log_probs.size(-1);
  DISTILL_CHECK(k <= vocab, "teacher top-k: ", k, " tokens kept of a vocabulary of ", vocab);
  std::vector<int64_t> shape = t.log_probs.sizes().vec();
  shape.back() = vocab;
  torch::Tensor dense;
  if (k == vocab) {
    dense = torch::full(shape, -std::numeric_limits<float>::infinity(), t.log_probs.options().dtype(torch::kFloat));
  } else {
    const torch::Tensor tail = t.residual.to(torch::kFloat) - std::log(static_cast<double>(vocab - k));  // per token
    dense = tail.unsqueeze(-1).expand(shape).contiguous();
  }
  return dense.scatter_(-1, t.indices.to(torch::kLong), t.log_probs.to(torch::kFloat));
}

}  // namespace distill::teachers
