#include "trainer/distill/value_schedule.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace distill::kd {

double scheduledValue(const config::ValueSchedule& spec, double start, int64_t step, int64_t total_steps) {
  const std::string& shape = spec.shape();
  if (shape == "constant") return start;
  const double span = static_cast<double>(std::max<int64_t>(total_steps - 1, 1));
  const double p = std::clamp(static_cast<double>(step) / span, 0.0, 1.0);
  if (shape == "linear") return start + (spec.end() - start) * p;
  if (shape == "cosine") return spec.end() + (start - spec.end()) * 0.5 * (1.0 + std::cos(M_PI * p));
  DISTILL_FAIL("distill schedule: unknown shape \"", shape, "\" (accepted: constant, linear, cosine)");
}

}  // namespace distill::kd
