// SparseGPT (Frantar & Alistarh 2023): prune one column at a time in the
// order of the inverse Hessian's Cholesky factor, each pruned weight's error
// spread over the columns not yet visited (optimal brain surgeon), with
// lazy batch updates: within a block of columns the update is applied
// column by column, to the rest of the matrix once per block. The mask is
// chosen per block (unstructured: the w^2 / [H^-1]_jj^2 smallest of the
// block; N:M: per group of m columns), from weights already updated for
// the columns before it.
#include "common/error.h"
#include "trainer/prune/keep_mask.h"
#include "trainer/prune/one_shot.h"

namespace distill::prune {

Pruned pruneSparseGpt(const torch::Tensor& weight, const LayerStatistics& stats, const Pattern& pattern,
                      const SparseGptOptions& options) {
  DISTILL_CHECK(stats.gram.defined(), "SparseGPT needs the layer's input Gram matrix");
  const int64_t rows = weight.size(0), cols = weight.size(1);
  torch::Tensor w = weight.to(torch::kFloat64).clone();
  torch::Tensor h = stats.gram.clone();
  // Inputs that were always zero: their weights change nothing; prune them and keep H invertible.
  const torch::Tensor dead = h.diagonal() == 0;
  h.diagonal().masked_fill_(dead, 1.0);
  w.index_put_({torch::indexing::Slice(), dead}, 0.0);
  h.diagonal().add_(options.dampening * h.diagonal().mean());
  // The upper Cholesky factor of H^-1: row j holds what pruning column j does to the columns after it.
  const torch::Tensor u = torch::linalg_cholesky(torch::cholesky_inverse(torch::linalg_cholesky(h)), /*upper=*/true);

  torch::Tensor mask = torch::ones({rows, cols}, torch::kBool);
  const int64_t block = pattern.nm() ? std::max<int64_t>(options.block / pattern.m, 1) * pattern.m : options.block;
  for (int64_t i1 = 0; i1 < cols; i1 += block) {
    const int64_t i2 = std::min(i1 + block, cols), count = i2 - i1;
    torch::Tensor w1 = w.narrow(1, i1, count).clone();
    torch::Tensor err1 = torch::zeros_like(w1);
    const torch::Tensor u1 = u.narrow(0, i1, count).narrow(1, i1, count);
    const torch::Tensor d1 = u1.diagonal();
    torch::Tensor m1;
    if (!pattern.nm()) m1 = keepLargest(w1.square() / d1.square().unsqueeze(0), pattern, /*per_row=*/false);
    else m1 = torch::ones_like(w1, torch::kBool);
    for (int64_t i = 0; i < count; ++i) {
      if (pattern.nm() && i % pattern.m == 0) {
        const torch::Tensor group = w1.narrow(1, i, pattern.m).square() / d1.narrow(0, i, pattern.m).square().unsqueeze(0);
        m1.narrow(1, i, pattern.m).copy_(keepLargest(group, pattern, /*per_row=*/true));
      }
      const torch::Tensor col = w1.select(1, i);
      const torch::Tensor q = col * m1.select(1, i);
      const torch::Tensor e = (col - q) / d1[i];
      // The not-yet-visited columns of the block absorb this column's error.
      w1.narrow(1, i, count - i).sub_(e.unsqueeze(1) * u1.select(0, i).narrow(0, i, count - i).unsqueeze(0));
      w1.select(1, i).copy_(q);
      err1.select(1, i).copy_(e);
    }
    w.narrow(1, i1, count).copy_(w1);
    mask.narrow(1, i1, count).copy_(m1);
    if (i2 < cols) w.narrow(1, i2, cols - i2).sub_(err1.matmul(u.narrow(0, i1, count).narrow(1, i2, cols - i2)));
  }
  mask &= dead.logical_not().unsqueeze(0);
  return {(w * mask).to(torch::kFloat), mask};
}

}  // namespace distill::prune
