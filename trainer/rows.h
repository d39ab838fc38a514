// Losses work on rows: one row per classified sample, or one per token for
// per-token (language-modeling) labels. toRows flattens [B,T,V] logits and
// [B,T] labels to [B*T,V] and [B*T]; [B,C] logits pass through.
#pragma once

#include <ATen/core/Tensor.h>

namespace distill::trainer {

struct Rows {
  at::Tensor logits;  // [R, C]
  at::Tensor labels;  // [R], -100 = ignore
};

Rows toRows(const at::Tensor& logits, const at::Tensor& labels);
// Teacher logits flattened the same way as the student's.
at::Tensor logitRows(const at::Tensor& logits);

}  // namespace distill::trainer
