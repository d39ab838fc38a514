// Guards that keep NaN and infinity out of the optimizer, the checkpoints and
// the exports (docs/operations.md#non-finite-values). Each names what holds
// the value and where it was met, so the user can tell a broken teacher from
// a diverging student:
//
//   checkTeacherOutputs(teacher_out, names, step);        // before the loss
//   checkStepLoss(step_loss, step);                       // before the backward
//   checkGradientNorm(norm, trained, step);               // before AdamW
//   checkFinite(params, "checkpoint step-00000040");      // before writing it
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "trainer/sparsity/named_tensor.h"
#include "trainer/step_loss.h"

namespace distill::trainer {

// The first of `tensors` with a NaN or an infinity, or nullptr; one host sync
// when none has (the common case), one per tensor otherwise.
const sparsity::NamedTensor* firstNonFinite(const std::vector<sparsity::NamedTensor>& tensors);

// distill::Error "<where>: tensor "<name>" holds N NaN and M infinite values of T"
// for the first tensor that holds any.
void checkFinite(const std::vector<sparsity::NamedTensor>& tensors, const std::string& where);

// A teacher's logits (or log-probabilities) with a NaN or +inf stop the step
// before any loss is computed, naming the teacher (`names[k]`) and the step
// (1-based). -inf is allowed: the log of a zero probability (a cached top-k
// with no mass outside it).
void checkTeacherOutputs(const kd::TeacherOutputs& outputs, const std::vector<std::string>& names, uint64_t step);

// A non-finite loss stops the step before the backward, naming its parts
// (task, kd, each distill.terms entry).
void checkStepLoss(const kd::StepLoss& loss, uint64_t step);

// A non-finite gradient norm (after the all-reduce, so every worker sees the
// same) stops the step before the optimizer, naming the first parameter whose
// gradient holds NaN or infinity on this worker.
void checkGradientNorm(double norm, const std::vector<sparsity::NamedTensor>& params, uint64_t step);

}  // namespace distill::trainer
