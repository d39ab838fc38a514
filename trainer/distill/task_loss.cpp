#include "trainer/distill/task_loss.h"

#include "common/error.h"

namespace distill::kd {

void checkLabels(const torch::Tensor& labels, int64_t rows, int64_t classes) {
  DISTILL_CHECK(labels.dim() == 1 && labels.size(0) == rows, "task loss: labels must be [batch] matching logits [",
                rows, ", ", classes, "], got ", labels.sizes());
  DISTILL_CHECK(labels.scalar_type() == torch::kLong, "task loss: labels must be int64, got ",
                labels.scalar_type());
  const torch::Tensor ignored = labels == kIgnoreLabel;
  // One host sync, worth it: an out-of-range label otherwise shows up as an
  // opaque gather error on CPU or a device-side assert on CUDA.
  const bool bad = (((labels < 0) & ~ignored) | (labels >= classes)).any().item<bool>();
  DISTILL_CHECK(!bad, "task loss: a label is outside [0, ", classes, ") and is not ", kIgnoreLabel,
                " (does the student's vocabulary match the dataset?)");
}

torch::Tensor crossEntropyPerSample(const torch::Tensor& logits, const torch::Tensor& labels) {
  DISTILL_CHECK(logits.dim() == 2, "task loss: logits must be [batch, classes], got ", logits.sizes());
  checkLabels(labels, logits.size(0), logits.size(1));
  const torch::Tensor ignored = labels == kIgnoreLabel;

  const torch::Tensor log_probs = torch::log_softmax(logits.to(torch::kFloat), /*dim=*/1);
  // Ignored rows gather class 0 (any valid index) and are zeroed by `where`,
  // which also keeps their gradient exactly zero.
  const torch::Tensor safe_labels = labels.masked_fill(ignored, 0).unsqueeze(1);
  const torch::Tensor nll = -log_probs.gather(1, safe_labels).squeeze(1);
  return torch::where(ignored, torch::zeros_like(nll), nll);
}

}  // namespace distill::kd
