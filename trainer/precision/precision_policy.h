// What precision a training step computes in: the PrecisionPolicy seam of
// DESIGN.md section 10, chosen once at set-up from runtime.precision.
//
//   auto precision = precision::makePrecisionPolicy(job.runtime().precision(), device);
//   for (auto& t : teachers) precision->prepareTeacher(t);     // once: bf16 teachers
//   {
//     auto region = precision->studentRegion();                 // autocast while it lives
//     out = model::runModel(student, ids, mask, "student");
//   }
//   loss = ... (in fp32: every loss casts logits to float)
//   precision->scaleLoss(loss).backward();
//   reduce gradients;
//   if (!precision->unscaleGradients(trained)) skip the step;   // fp16 overflow
//
// Variants, one file each: fp32 (nothing changes), bf16 (teachers converted
// once, the student's matmuls under autocast while its parameters, gradients
// and AdamW state stay fp32: the fp32 master weights), fp16 (CUDA only, the
// bf16 scheme plus dynamic loss scaling, loss_scaler.h). Pruned weights are
// exactly 0 in the fp32 parameters and so in every bf16 copy autocast makes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <torch/torch.h>

#include "trainer/sparsity/named_tensor.h"

namespace torch::jit {
struct Module;
}

namespace distill::precision {

// RAII: the student's forward runs while one lives.
class ComputeRegion {
 public:
  virtual ~ComputeRegion() = default;
};

class PrecisionPolicy {
 public:
  virtual ~PrecisionPolicy() = default;
  // "fp32", "bf16" or "fp16".
  virtual std::string name() const = 0;
  // The dtype teachers compute in (their weights are converted to it once).
  virtual torch::ScalarType teacherDtype() const = 0;
  // Converts a teacher's floating-point weights to teacherDtype().
  void prepareTeacher(torch::jit::Module& teacher) const;
  // The region the student's forward runs in; destroy it before backward.
  virtual std::unique_ptr<ComputeRegion> studentRegion() const = 0;
  // The loss backward runs on: the loss itself, or (fp16) the loss times the current scale.
  virtual torch::Tensor scaleLoss(const torch::Tensor& loss) { return loss; }
  // After gradients are reduced: undoes scaleLoss on them. False when they are
  // not finite and the step must be skipped (fp16 overflow; the scale backs off).
  virtual bool unscaleGradients(const std::vector<sparsity::NamedTensor>&) { return true; }
  // The current loss scale (1 without scaling).
  virtual double lossScale() const { return 1.0; }
};

// Throws distill::Error naming runtime.precision when `name` is unknown or
// cannot run on `device` (fp16 off CUDA; bf16 on a CPU without AVX512-BF16 or AMX).
std::unique_ptr<PrecisionPolicy> makePrecisionPolicy(const std::string& name, c10::Device device);

// Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX-BF16, from /proc/cpuinfo).
bool cpuHasNativeBf16();

}  // namespace distill::precision
