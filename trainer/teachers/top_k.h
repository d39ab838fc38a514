// A teacher's distribution over a large vocabulary, kept as its k most likely
// tokens plus the probability left over, so caches and messages hold
// O(k) numbers per token instead of O(V):
//
//   log_probs [.., k]   log softmax of the teacher's logits (temperature 1) at
//   indices   [.., k]   these token ids, most likely first
//   residual  [..]      log of the probability outside the k (1 - sum exp(log_probs))
//
//   TopK t = topK(teacher_logits, 64);                 // [B,T,V] -> [B,T,64] ...
//   torch::Tensor logits = denseLogits(t, vocab);      // [B,T,V] again, approximately
//
// denseLogits spreads the residual uniformly over the V - k tokens not kept:
// each gets log(residual / (V - k)). The distribution it returns equals the
// teacher's on the k tokens and in total mass; only the shape of the tail is
// lost, and at a temperature T != 1 the tail is that uniform one's. With
// k = V nothing is approximated. The loss reads the same distribution without
// making it dense where it can (kd::topKDivergenceRows).
#pragma once

#include <torch/torch.h>

namespace distill::teachers {

struct TopK {
  torch::Tensor log_probs;  // float [.., k]
  torch::Tensor indices;    // int32 [.., k]
  torch::Tensor residual;   // float [..], log of the mass outside; -inf when k = V
};

// logits [.., V], any float dtype; 1 <= k. k >= V keeps every token.
TopK topK(const torch::Tensor& logits, int64_t k);

// One row per token, as trainer::logitRows flattens logits: [B,T,k] -> [B*T,k]
// and [B,T] -> [B*T]; [B,k] rows pass through.
TopK topKRows(const TopK& t);

// The logits of a distribution equal to `t` on its k tokens, with the
// residual spread over the other vocab - k tokens: float32 [.., vocab].
torch::Tensor denseLogits(const TopK& t, int64_t vocab);

}  // namespace distill::teachers
