#include "trainer/distill/sentence_representation.h"

#include "common/error.h"

namespace distill::kd {

torch::Tensor maskedMean(const torch::Tensor& hidden, const torch::Tensor& attention_mask) {
  DISTILL_CHECK(hidden.dim() == 3, "sentence representation: hidden states must be [batch, tokens, width], got ",
                hidden.sizes());
  DISTILL_CHECK(attention_mask.dim() == 2 && attention_mask.size(0) == hidden.size(0) &&
                    attention_mask.size(1) == hidden.size(1),
                "sentence representation: attention_mask ", attention_mask.sizes(), " does not match hidden states ",
                hidden.sizes());
  const torch::Tensor m = (attention_mask != 0).to(torch::kFloat).unsqueeze(2);  // [B,T,1]
  const torch::Tensor count = m.sum(/*dim=*/1).clamp_min(1.0);                   // [B,1]
  return (hidden.to(torch::kFloat) * m).sum(/*dim=*/1) / count;
}

}  // namespace distill::kd
