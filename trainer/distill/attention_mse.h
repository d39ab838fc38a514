// Attention-map distillation (TinyBERT, MiniLM-style maps): the mean squared
// error between student and teacher attention probabilities over the pairs
// of real query and key positions of a sample.
//
//   torch::Tensor mse = kd::attentionMSE(s_attn[1], t_attn[3], mask, kd::AttentionHeads::kAverage);  // [B]
//
//   average: loss_b = sum_qk m_bq m_bk (mean_h A^s_bhqk - mean_h A^t_bhqk)^2 / (sum_q m_bq)^2
//   mapped:  loss_b = sum_hqk m_bq m_bk (A^s_bhqk - A^t_bhqk)^2 / (H (sum_q m_bq)^2)
#pragma once

#include <string>

#include <torch/torch.h>

namespace distill::kd {

enum class AttentionHeads {
  kAverage,  // heads averaged on each side first: works for any head counts
  kMapped,   // student head h learns from teacher head h: equal counts only
};

// "average" or "mapped"; throws distill::Error naming `field` otherwise.
AttentionHeads attentionHeadsFromName(const std::string& name, const std::string& field);

// student [B,Hs,T,T], teacher [B,Ht,T,T] (query, key), attention_mask [B,T].
// Returns [B] float32, differentiable w.r.t. the student; the teacher is
// detached. kMapped with Hs != Ht throws distill::Error.
torch::Tensor attentionMSE(const torch::Tensor& student, const torch::Tensor& teacher,
                           const torch::Tensor& attention_mask, AttentionHeads heads);

}  // namespace distill::kd
