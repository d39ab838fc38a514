// Linear CKA (Kornblith et al., 2019) between the student's and the
// teacher's representations of the batch, as a loss 1 - CKA. CKA compares
// the two sets of vectors up to rotation and isotropic scaling, so the widths
// may differ and no projection is needed.
//
//   torch::Tensor loss = kd::ckaLoss(kd::maskedMean(s_hidden, mask), kd::maskedMean(t_hidden, mask));  // [B]
//
//   Y = X - mean_b X (centred over the batch)
//   CKA = ||Ys^T Yt||_F^2 / (||Ys^T Ys||_F ||Yt^T Yt||_F)
#pragma once

#include <torch/torch.h>

namespace distill::kd {

// Linear CKA of student [B,Ds] and teacher [B,Dt], a float32 scalar in
// [0, 1]. Differentiable w.r.t. the student; the teacher is detached. When a
// side has no variation over the batch (B = 1, or every row equal) there is
// nothing to align and CKA is 0.
torch::Tensor linearCKA(const torch::Tensor& student, const torch::Tensor& teacher);

// 1 - linearCKA, broadcast to [B]. CKA is a property of the whole batch, not
// of one sample: averaging this with per-sample weights w_b gives
// (mean_b w_b) * (1 - CKA), i.e. the weights enter as their batch mean.
torch::Tensor ckaLoss(const torch::Tensor& student, const torch::Tensor& teacher);

}  // namespace distill::kd
