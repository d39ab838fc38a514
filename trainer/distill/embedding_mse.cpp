#include "trainer/distill/embedding_mse.h"

#include "common/error.h"
#include "trainer/distill/hidden_state_mse.h"

namespace distill::kd {

torch::Tensor embeddingMSE(const torch::Tensor& student_hidden_states, const torch::Tensor& teacher_hidden_states,
                           const torch::Tensor& attention_mask, const torch::Tensor& projection) {
  DISTILL_CHECK(student_hidden_states.dim() == 4 && teacher_hidden_states.dim() == 4,
                "embedding_mse: hidden_states must be [L+1, B, T, D], got student ", student_hidden_states.sizes(),
                " and teacher ", teacher_hidden_states.sizes());
  return hiddenStateMSE(student_hidden_states[0], teacher_hidden_states[0], attention_mask, projection);
}

}  // namespace distill::kd
