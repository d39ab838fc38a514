// Embedding-layer distillation (TinyBERT): hidden-state MSE on the
// embeddings' output, hidden_states[0], through its own learned projection.
//
//   torch::Tensor mse = kd::embeddingMSE(student_out.hidden_states, teacher_out.hidden_states,
//                                        mask, projection);  // [B]
#pragma once

#include <torch/torch.h>

namespace distill::kd {

// hiddenStateMSE(student_hidden_states[0], teacher_hidden_states[0], ...):
// the full stacks [Ls+1,B,T,Ds] and [Lt+1,B,T,Dt], embeddings first.
torch::Tensor embeddingMSE(const torch::Tensor& student_hidden_states, const torch::Tensor& teacher_hidden_states,
                           const torch::Tensor& attention_mask, const torch::Tensor& projection);

}  // namespace distill::kd
