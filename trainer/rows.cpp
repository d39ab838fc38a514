#include "trainer/rows.h"

#include <torch/torch.h>

#include "common/error.h"

namespace distill::trainer {

at::Tensor logitRows(const at::Tensor& logits) {
  return logits.dim() == 3 ? logits.reshape({-1, logits.size(-1)}) : logits;
}

Rows toRows(const at::Tensor& logits, const at::Tensor& labels) {
  if (logits.dim() == 3) {
    DISTILL_CHECK(labels.dim() == 2, "per-token logits [B,T,V] need per-token labels [B,T]; the dataset has labels of shape ",
                  labels.sizes());
    return {logitRows(logits), labels.reshape({-1})};
  }
  DISTILL_CHECK(logits.dim() == 2 && labels.dim() == 1, "classification logits [B,C] need labels [B]; got logits ",
                logits.sizes(), " and labels ", labels.sizes());
  return {logits, labels};
}

}  // namespace distill::trainer
