// The divergence between a teacher given as its top-k (teachers/top_k.h: the k
// most likely tokens' log-probabilities and the log of the mass outside) and
// the student, without the teacher's dense [R, V] logits: the value
// divergenceRows gives on denseLogits(teacher, V), to rounding, at a fraction
// of the work and memory on the teacher's side.
//
//   torch::Tensor rows = kd::topKDivergenceRows(student_logits, top, vocab, kd::divergenceOf(spec));  // [R]
//
// Why it is exact. Every divergence of divergence.h is a sum over tokens of a
// term g(p_c, q_c). Outside its k tokens the teacher (its residual spread
// uniformly, as denseLogits does) is one value p_tail, so
//
//   D = sum_c g(p_tail, q_c) + sum_{c in top-k} [g(p_c, q_c) - g(p_tail, q_c)]
//
// and p_tail broadcasts over the vocabulary: the teacher side is O(R k), the
// student side the same softmax over V as before. The temperature softens the
// k values and the tail together: p = softmax(log p_1 / T ... log p_k / T,
// (V - k) copies of log p_tail / T). With k = V there is no tail and D is the
// sum over the k terms alone.
//
// Precision: the tail sum and the correction each carry the kept tokens'
// terms against p_tail, which are large where the tail is tiny (about
// q_c * 90 for reverse KL at a residual near the smallest float); they cancel
// to within about 1e-5 in float32, well inside the loss's own rounding. A
// residual of -inf with k < V counts as the smallest float (topK's own clamp),
// where the dense expansion would give reverse KL +inf.
#pragma once

#include <torch/torch.h>

#include "trainer/distill/divergence.h"
#include "trainer/teachers/top_k.h"

namespace distill::kd {

// student_logits [R, V] (V = vocab); teacher rows: log_probs [R, k], indices
// [R, k], residual [R] -> [R] float32, times T^2, differentiable with respect to
// the student only. Throws distill::Error on mismatched shapes.
torch::Tensor topKDivergenceRows(const torch::Tensor& student_logits, const teachers::TopK& teacher, int64_t vocab,
                                 const Divergence& divergence);

// The parts, as logit_rows.h uses them with the student's log-softmax computed
// once for every teacher.
//
// The teacher's top-k softened at a temperature.
struct SoftenedTopK {
  torch::Tensor indices;     // int64 [R, k]
  torch::Tensor log_p_kept;  // float [R, k]: log p of the k tokens
  torch::Tensor log_p_tail;  // float [R, 1]: log p of one token outside them; undefined when k = V
};

// Throws distill::Error, naming both shapes, unless `teacher` is a top-k over
// `vocab` tokens of every row of student_logits [R, vocab].
void checkTopK(const teachers::TopK& teacher, const torch::Tensor& student_logits, int64_t vocab);

SoftenedTopK softenTopK(const teachers::TopK& teacher, int64_t vocab, double temperature);

// The divergence, unscaled, against the student's softened log-probabilities
// log_q [R, V]: [R].
torch::Tensor topKDivergenceOfLogProbs(const torch::Tensor& log_q, const SoftenedTopK& p, const Divergence& d);

// Its gradient terms h [R, V] (divergence.h): the tail's everywhere, the
// kept tokens' at their indices.
torch::Tensor topKGradientTerms(const torch::Tensor& log_q, const SoftenedTopK& p, const Divergence& d);

}  // namespace distill::kd
