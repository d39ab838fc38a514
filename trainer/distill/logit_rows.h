// The logit loss's values per row, over distill.chunk_tokens rows at a time:
// the task cross-entropy and one divergence per teacher (dense logits or its
// top-k), differentiated in closed form instead of by autograd.
//
//   std::vector<kd::LogitTerm> terms = {kd::LogitTerm::crossEntropy(labels),
//                                       kd::LogitTerm::dense(teacher_logits),
//                                       kd::LogitTerm::topK(teacher_top_k, vocab)};
//   torch::Tensor rows = kd::logitRows(student_logits, terms, divergence, /*chunk=*/1024);  // [3, R]
//
// Why closed form. Each divergence is a sum over the vocabulary of g(p_c, q_c)
// with q = softmax(z / T), so with its gradient terms h_c = q_c dg/dq_c
// (divergence.h) and the softmax's Jacobian
//
//   d(T^2 D)/dz = T (h - q sum_c h_c)
//
// and the cross-entropy's is softmax(z) - onehot(label). Weighted by their
// upstream gradients (the combiner's weights, the means), every teacher's h
// adds into one [chunk, V] tensor W, and the chunk's gradient is
// T (W - q sum_c W_c): one softmax per chunk serves every teacher and, at
// T = 1, the task term too, in the forward pass and again in the backward
// pass; no graph is built. Autograd's way evaluated each term's softmax and
// its graph separately, and, chunked, ran every term twice.
//
// Memory beyond the logits and their gradient: the tensor form holds a few
// float32 [chunk, V] tensors (the softmax, W, one term's h and its
// temporaries), forward and backward; the fused kernel (below) one float32
// copy of a chunk's logits where they are not float32 already, and two row
// buffers per thread. The forward pass keeps its inputs (and, fused, 4 floats
// of softmax stats per row). chunk <= 0 or >= R is one
// chunk of every row. Values and gradients do not depend on the chunk.
// First derivatives only: the backward pass builds no graph, so a
// create_graph backward gets no second-order term from this loss (nothing in
// the service takes one).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "trainer/distill/divergence.h"
#include "trainer/teachers/top_k.h"

namespace distill::kd {

struct LogitTerm {
  enum class Kind { kCrossEntropy, kDense, kTopK };
  Kind kind = Kind::kCrossEntropy;
  torch::Tensor labels;   // kCrossEntropy: [R] int64; -100 rows are 0 with no gradient
  torch::Tensor logits;   // kDense: the teacher's [R, V] in the student's classes (-inf: probability 0)
  teachers::TopK top_k;   // kTopK: the teacher's top-k rows [R, k]
  int64_t vocab = 0;      // kTopK: V

  static LogitTerm crossEntropy(torch::Tensor labels);
  static LogitTerm dense(torch::Tensor teacher_logits);
  static LogitTerm topK(teachers::TopK rows, int64_t vocab);
};

// How the rows are computed: kAuto takes the fused row kernel
// (logit_row_kernel.h: every term of a row in a few passes over it, eight
// tokens at a time) for CPU logits on a CPU with AVX2 and FMA, else the tensor
// form (a few [chunk, V] tensor operations per term, any device); kTensor
// always the tensor form. Both give the same values and gradients to float32
// rounding; the tests hold them to each other and to autograd.
enum class LogitRowsKernel { kAuto, kTensor };

// Whether kAuto takes the fused kernel for these logits on this machine.
bool fusedLogitRows(const torch::Tensor& student_logits);

// student_logits [R, V] -> [terms, R] float32: the cross-entropy at temperature
// 1 (as crossEntropyPerSample), each divergence at d.temperature times T^2 (as
// divergenceRows, topKDivergenceRows). Differentiable with respect to the
// student only. Throws distill::Error for a label outside [0, V) and not -100,
// or a teacher whose shape is not the student's (naming both).
torch::Tensor logitRows(const torch::Tensor& student_logits, const std::vector<LogitTerm>& terms, const Divergence& d,
                        int64_t chunk, LogitRowsKernel kernel = LogitRowsKernel::kAuto);

}  // namespace distill::kd
