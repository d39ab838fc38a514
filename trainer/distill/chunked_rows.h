// Row losses over [R, V] logits in chunks of rows, so the float32 temporaries
// of a softmax over a large vocabulary (log-probabilities, probabilities,
// mixtures: several [R, V] each) exist for one chunk at a time, in the forward
// pass and in the backward pass alike.
//
//   torch::Tensor rows = kd::chunkedRows(student_logits, /*chunk=*/1024, /*count=*/K,
//       [=](const torch::Tensor& s, int64_t begin, int64_t end, int64_t k) {  // s: rows [begin, end)
//         return divergenceRows(s, teachers[k].slice(0, begin, end), d);       // [end - begin]
//       });                                                                     // -> [K, R]
//
// The forward pass evaluates `f` chunk by chunk and value by value without a
// graph; the backward pass evaluates it again with a graph for one chunk and
// one value at a time (freed before the next) and adds that gradient into the
// gradient of `student_logits`. So beyond the logits and their gradient,
// memory is one evaluation of `f` on one chunk, and `f` runs twice (the price
// of recomputing rather than storing). `f` must be a pure function of its
// inputs (it is called again after chunkedRows returns: capture by value),
// and it is differentiated only with respect to `s`.
#pragma once

#include <functional>

#include <torch/torch.h>

namespace distill::kd {

// Value `j` (0 <= j < count) of rows [begin, end): a [end - begin] tensor.
using RowFunction =
    std::function<torch::Tensor(const torch::Tensor& student_rows, int64_t begin, int64_t end, int64_t j)>;

// student_logits [R, V]; `chunk` rows at a time (<= 0 or >= R: ordinary
// autograd calls of f on every row). Returns [count, R] float32.
torch::Tensor chunkedRows(const torch::Tensor& student_logits, int64_t chunk, int64_t count, RowFunction f);

}  // namespace distill::kd
