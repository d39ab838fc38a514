#include "trainer/sparsity/constant_schedule.h"

#include "common/error.h"

namespace distill::sparsity {

ConstantSchedule::ConstantSchedule(double sparsity, int64_t begin_step, int64_t interval)
    : sparsity_(sparsity), begin_(begin_step), interval_(interval) {
  DISTILL_CHECK(sparsity_ >= 0 && sparsity_ <= 1, "sparsity.final_sparsity must be in [0, 1], got ", sparsity_);
  DISTILL_CHECK(interval_ > 0, "sparsity.interval must be > 0");
  DISTILL_CHECK(begin_ >= 0, "sparsity.warmup_steps must be >= 0");
}

double ConstantSchedule::target(int64_t step) const { return step < begin_ ? 0.0 : sparsity_; }

bool ConstantSchedule::isUpdateStep(int64_t step) const { return step >= begin_ && (step - begin_) % interval_ == 0; }

}  // namespace distill::sparsity
