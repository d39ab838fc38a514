// Magnitude: the baseline every one-shot method is measured against.
#include "trainer/prune/keep_mask.h"
#include "trainer/prune/one_shot.h"

namespace distill::prune {

Pruned pruneMagnitude(const torch::Tensor& weight, const Pattern& pattern) {
  const torch::Tensor w = weight.to(torch::kFloat);
  const torch::Tensor mask = keepLargest(w.abs(), pattern, /*per_row=*/false);
  return {w * mask, mask};
}

}  // namespace distill::prune
