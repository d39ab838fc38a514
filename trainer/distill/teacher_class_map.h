// Knowledge amalgamation: a teacher that knows only some of the student's
// classes. distill.teachers[k].classes lists, in the teacher's output order,
// the student class of each teacher output; the teacher's logits are placed
// there and the classes it does not cover get -inf (probability 0, which
// logitKL and the combiners treat as 0 log 0 = 0).
//
//   teachers: [{path: animals.pt, classes: [0, 2]}, {path: vehicles.pt, classes: [1, 3, 4]}]
//   torch::Tensor t = kd::toStudentClasses(animal_logits, {0, 2}, 5, "distill.teachers[0]");
//   // [B,2] -> [B,5]: column 0 <- teacher class 0, column 2 <- teacher class 1, the rest -inf
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "proto/config.pb.h"

namespace distill::kd {

// teacher_logits [..., Ck] -> [..., student_classes]: out[..., classes[j]] =
// teacher_logits[..., j], -inf elsewhere. Differentiable (index copy), same
// dtype. Throws distill::Error naming `field` when Ck != classes.size() or a
// class is outside [0, student_classes) or listed twice.
torch::Tensor toStudentClasses(const torch::Tensor& teacher_logits, const std::vector<int64_t>& classes,
                               int64_t student_classes, const std::string& field);

// [C] bool on `device`: true for the student classes teacher k covers
// (every class when spec.teachers(k).classes is empty).
torch::Tensor coveredClasses(const config::DistillSpec& spec, int k, int64_t student_classes,
                             const torch::Device& device);

// teacher_logits[k] in the student's class space for every teacher with a
// class list (spec.teachers(k).classes); the others unchanged.
std::vector<torch::Tensor> teachersInStudentClasses(const std::vector<torch::Tensor>& teacher_logits,
                                                    const config::DistillSpec& spec, int64_t student_classes);

}  // namespace distill::kd
