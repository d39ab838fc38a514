#include "trainer/optim/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace distill::optim {

LearningRateSchedule::LearningRateSchedule(const config::OptimizerSpec& spec, int64_t total_steps)
    : lr_(spec.lr()), min_ratio_(spec.min_lr_ratio()), warmup_(spec.warmup_steps()), total_(total_steps),
      decay_(spec.decay()) {
  DISTILL_CHECK(std::isfinite(lr_) && lr_ >= 0, "optimizer.lr must be >= 0, got ", lr_);
  DISTILL_CHECK(min_ratio_ >= 0 && min_ratio_ <= 1, "optimizer.min_lr_ratio must be in [0, 1], got ", min_ratio_);
  DISTILL_CHECK(decay_ == "constant" || decay_ == "linear" || decay_ == "cosine", "optimizer.decay: unknown decay '",
                decay_, "'; known: constant, linear, cosine");
}

double LearningRateSchedule::at(int64_t step) const {
  if (step < warmup_) return lr_ * static_cast<double>(std::max<int64_t>(step, 0)) / static_cast<double>(warmup_);
  if (decay_ == "constant") return lr_;
  // max(1, ...): a job with no steps after warm-up sits at the end of decay.
  const double span = static_cast<double>(std::max<int64_t>(total_ - warmup_, 1));
  const double progress = std::clamp(static_cast<double>(step - warmup_) / span, 0.0, 1.0);
  const double shape = decay_ == "linear" ? 1.0 - progress : 0.5 * (1.0 + std::cos(M_PI * progress));
  return lr_ * (min_ratio_ + (1.0 - min_ratio_) * shape);
}

}  // namespace distill::optim
