// Global gradient-norm clipping (Pascanu et al., 2013), as
// torch.nn.utils.clip_grad_norm_: all gradients are scaled by one factor so
// their joint L2 norm is at most max_norm. Call it after the gradient
// all-reduce so every worker scales by the same factor.
//
//   double norm = optim::clipGradNorm(named_params, job.optimizer().max_grad_norm());
//   if (!std::isfinite(norm)) skip the step;
#pragma once

#include <vector>

#include "trainer/sparsity/named_tensor.h"

namespace distill::optim {

using sparsity::NamedTensor;

// Returns the global L2 norm of the gradients before clipping (0 when none
// has a gradient). When max_norm > 0 and the norm exceeds it, multiplies every
// gradient by max_norm / (norm + 1e-6). max_norm <= 0 only measures. A
// non-finite norm leaves the gradients untouched (scaling would spread NaN);
// the caller decides whether to skip the step.
double clipGradNorm(const std::vector<NamedTensor>& params, double max_norm);

// Sets every defined gradient to zero in place (the tensors, and any views a
// gradient sync holds into them, are kept).
void zeroGradients(const std::vector<NamedTensor>& params);

}  // namespace distill::optim
