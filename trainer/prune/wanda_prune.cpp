// Wanda: |W_ij| times the norm of input feature j over the calibration
// tokens, compared within each output row; no weight update.
#include "trainer/prune/keep_mask.h"
#include "trainer/prune/one_shot.h"

namespace distill::prune {

Pruned pruneWanda(const torch::Tensor& weight, const LayerStatistics& stats, const Pattern& pattern) {
  const torch::Tensor w = weight.to(torch::kFloat);
  const torch::Tensor norms = stats.sq_norms.sqrt().to(torch::kFloat);
  const torch::Tensor mask = keepLargest(w.abs() * norms.unsqueeze(0), pattern, /*per_row=*/true);
  return {w * mask, mask};
}

}  // namespace distill::prune
