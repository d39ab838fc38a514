#include "trainer/prune/keep_mask.h"

#include <cmath>

namespace distill::prune {

torch::Tensor keepLargest(const torch::Tensor& scores, const Pattern& pattern, bool per_row) {
  const int64_t rows = scores.size(0), cols = scores.size(1);
  if (pattern.nm()) {
    const torch::Tensor groups = scores.reshape({rows, cols / pattern.m, pattern.m});
    const torch::Tensor kept = std::get<1>(groups.topk(pattern.n, /*dim=*/-1, /*largest=*/true, /*sorted=*/false));
    return torch::zeros_like(groups, torch::kBool).scatter_(-1, kept, true).reshape({rows, cols});
  }
  const torch::Tensor flat = per_row ? scores : scores.reshape({1, -1});
  const auto width = flat.size(1);
  const auto removed = static_cast<int64_t>(std::floor(pattern.sparsity * static_cast<double>(width)));
  torch::Tensor mask = torch::ones_like(flat, torch::kBool);
  if (removed > 0) {
    const torch::Tensor lowest = std::get<1>(flat.topk(removed, /*dim=*/-1, /*largest=*/false, /*sorted=*/false));
    mask.scatter_(-1, lowest, false);
  }
  return mask.reshape({rows, cols});
}

}  // namespace distill::prune
