// Values that change over training: the logit-KL temperature and kd_weight
// (distill.temperature_schedule, distill.kd_weight_schedule).
//
//   const double t = kd::scheduledValue(spec.temperature_schedule(), spec.temperature(), step, total_steps);
//
//   p = step / (total_steps - 1), clamped to [0, 1]
//   constant: start      linear: start + (end - start) p      cosine: end + (start - end) (1 + cos(pi p)) / 2
//
// Step 0 uses `start` and the last step (total_steps - 1) uses `end`.
#pragma once

#include <cstdint>

#include "proto/config.pb.h"

namespace distill::kd {

// The value at 0-based `step` of `total_steps`, going from `start` (the base
// value: distill.temperature or distill.kd_weight) to spec.end(). Throws
// distill::Error on an unknown shape.
double scheduledValue(const config::ValueSchedule& spec, double start, int64_t step, int64_t total_steps);

}  // namespace distill::kd
