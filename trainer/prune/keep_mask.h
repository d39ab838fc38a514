// The entries of a score matrix [out, in] to keep under a pruning pattern:
// N:M keeps the n largest of every m consecutive entries of a row; a
// fraction keeps the largest 1 - sparsity of each row (per_row, Wanda's
// comparison group) or of the whole matrix. Ties go to the lower index.
#pragma once

#include <torch/torch.h>

#include "trainer/prune/one_shot.h"

namespace distill::prune {

torch::Tensor keepLargest(const torch::Tensor& scores, const Pattern& pattern, bool per_row);

}  // namespace distill::prune
