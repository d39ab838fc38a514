#include "trainer/distill/hidden_state_mse.h"

#include "common/error.h"
#include "trainer/distill/projection.h"

namespace distill::kd {

torch::Tensor hiddenStateMSE(const torch::Tensor& student, const torch::Tensor& teacher,
                             const torch::Tensor& attention_mask, const torch::Tensor& projection) {
  DISTILL_CHECK(student.dim() == 3 && teacher.dim() == 3 && student.size(0) == teacher.size(0) &&
                    student.size(1) == teacher.size(1),
                "hidden_mse: student ", student.sizes(), " and teacher ", teacher.sizes(),
                " must be [batch, tokens, width] with the same batch and tokens");
  DISTILL_CHECK(attention_mask.sizes() == student.sizes().slice(0, 2), "hidden_mse: attention_mask ",
                attention_mask.sizes(), " does not match the hidden states ", student.sizes());
  const torch::Tensor projected = applyProjection(student, projection, teacher.size(2), "hidden_mse");
  const torch::Tensor per_token = (projected - teacher.detach().to(torch::kFloat)).pow(2).mean(/*dim=*/2);  // [B,T]
  const torch::Tensor m = (attention_mask != 0).to(torch::kFloat);
  return (per_token * m).sum(/*dim=*/1) / m.sum(/*dim=*/1).clamp_min(1.0);
}

}  // namespace distill::kd
