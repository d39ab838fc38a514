// Learned linear maps from the student's width to a teacher's, for the terms
// that compare vectors of different widths (hidden_mse, embedding_mse,
// infonce, cosine; TinyBERT's W_h). They are plain tensors the trainer owns:
// trained with the student (AdamW), checkpointed under their names, and left
// out of the exported student.
//
//   torch::Tensor w = kd::initProjection(/*teacher_width=*/768, /*student_width=*/256, seed,
//                                        kd::projectionName("hidden_mse", "big", 3));
//   torch::Tensor in_teacher_space = kd::applyProjection(student_hidden, w, 768, "hidden_mse");
//
// The student is projected to the teacher (never the reverse): the teacher's
// vectors stay a fixed target, so the projection cannot shrink the loss by
// moving the target.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <torch/torch.h>

namespace distill::kd {

// Projections by name; std::map so every worker iterates them in one order.
using Projections = std::map<std::string, torch::Tensor>;

// Prefix shared by every projection name (e.g. to leave them out of an export).
constexpr const char* kProjectionPrefix = "projections/";

// "projections/<term>/<teacher>/<layer>", the layer being the student's
// 0-based transformer layer, or "embeddings" for layer -1.
std::string projectionName(const std::string& term, const std::string& teacher, int64_t student_layer);

// A [teacher_width, student_width] float32 leaf with requires_grad, drawn
// from U(-1/sqrt(student_width), 1/sqrt(student_width)) (torch.nn.Linear's
// default) by a private generator seeded from `seed` and `name`: the same on
// every worker and run, and independent of which other projections exist.
torch::Tensor initProjection(int64_t teacher_width, int64_t student_width, uint64_t seed, const std::string& name);

// x [..., Ds] times W^T -> [..., Dt] when `projection` is defined; otherwise x
// itself, which must already be `teacher_width` wide. Throws distill::Error
// naming `term` on a width mismatch.
torch::Tensor applyProjection(const torch::Tensor& x, const torch::Tensor& projection, int64_t teacher_width,
                              const std::string& term);

}  // namespace distill::kd
