// LibTorch-version shim for autocast's thread-local state: 1.13 has one set of
// calls per device (is_enabled / get_autocast_gpu_dtype for CUDA,
// is_cpu_enabled / get_autocast_cpu_dtype for the CPU); 2.4 made them one set
// taking the device type and deprecated the old ones (each warns at run time).
// As before, CUDA is CUDA and every other device type is the CPU.
//
//   const bool was_on = autocastEnabled(c10::DeviceType::CPU);
#pragma once

#include <ATen/autocast_mode.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>
#include <torch/version.h>

#define DISTILL_AUTOCAST_TAKES_DEVICE_TYPE \
  (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4))

namespace distill::precision {

inline bool autocastIsCuda(c10::DeviceType device) { return device == c10::DeviceType::CUDA; }

inline bool autocastEnabled(c10::DeviceType device) {
#if DISTILL_AUTOCAST_TAKES_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(autocastIsCuda(device) ? c10::DeviceType::CUDA : c10::DeviceType::CPU);
#else
  return autocastIsCuda(device) ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

inline void setAutocastEnabled(c10::DeviceType device, bool enabled) {
#if DISTILL_AUTOCAST_TAKES_DEVICE_TYPE
  at::autocast::set_autocast_enabled(autocastIsCuda(device) ? c10::DeviceType::CUDA : c10::DeviceType::CPU, enabled);
#else
  if (autocastIsCuda(device)) {
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

// The dtype autocast computes in on `device` (whether or not it is on).
inline c10::ScalarType autocastDtype(c10::DeviceType device) {
#if DISTILL_AUTOCAST_TAKES_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(autocastIsCuda(device) ? c10::DeviceType::CUDA : c10::DeviceType::CPU);
#else
  return autocastIsCuda(device) ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

inline void setAutocastDtype(c10::DeviceType device, c10::ScalarType dtype) {
#if DISTILL_AUTOCAST_TAKES_DEVICE_TYPE
  at::autocast::set_autocast_dtype(autocastIsCuda(device) ? c10::DeviceType::CUDA : c10::DeviceType::CPU, dtype);
#else
  if (autocastIsCuda(device)) {
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

}  // namespace distill::precision
