#include "trainer/sparsity/iterative_schedule.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace distill::sparsity {

IterativeSchedule::IterativeSchedule(double final_sparsity, double fraction, int64_t begin_step, int64_t interval)
    : final_(final_sparsity), fraction_(fraction), begin_(begin_step), interval_(interval) {
  DISTILL_CHECK(final_ >= 0 && final_ < 1, "sparsity.final_sparsity must be in [0, 1), got ", final_);
  DISTILL_CHECK(fraction_ > 0 && fraction_ < 1, "sparsity.iterative_fraction must be in (0, 1), got ", fraction_);
  DISTILL_CHECK(interval_ > 0, "sparsity.interval must be > 0");
  DISTILL_CHECK(begin_ >= 0, "sparsity.warmup_steps must be >= 0");
  // Smallest n with 1 - (1-f)^n >= final (n >= 1).
  updates_ = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(std::log1p(-final_) / std::log1p(-fraction_) - 1e-12)));
}

double IterativeSchedule::target(int64_t step) const {
  if (step < begin_) return 0.0;
  const int64_t done = std::min((step - begin_) / interval_ + 1, updates_);
  return std::min(final_, 1.0 - std::pow(1.0 - fraction_, static_cast<double>(done)));
}

bool IterativeSchedule::isUpdateStep(int64_t step) const {
  return step >= begin_ && (step - begin_) % interval_ == 0 && (step - begin_) / interval_ < updates_;
}

}  // namespace distill::sparsity
