// Autocast on one device type for as long as the object lives: matmuls and
// linear layers run in the lower-precision dtype, their fp32 weights cast once
// per region (the autocast weight cache, cleared when the outermost region ends,
// so the next step sees the updated weights).
//
//   { AutocastRegion region(c10::DeviceType::CPU, torch::kBFloat16); out = student.forward(...); }
//
// LibTorch-version note: autocast_compat.h reads and sets autocast's state in
// the spelling of the LibTorch at hand (1.13's per-device calls, or 2.4's).
#pragma once

#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include "trainer/precision/precision_policy.h"

namespace distill::precision {

class AutocastRegion final : public ComputeRegion {
 public:
  AutocastRegion(c10::DeviceType device, c10::ScalarType dtype);
  ~AutocastRegion() override;
  AutocastRegion(const AutocastRegion&) = delete;
  AutocastRegion& operator=(const AutocastRegion&) = delete;

 private:
  c10::DeviceType device_;
  bool was_enabled_;
  c10::ScalarType previous_dtype_;
};

}  // namespace distill::precision
