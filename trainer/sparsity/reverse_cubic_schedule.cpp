#include "trainer/sparsity/reverse_cubic_schedule.h"

#include "common/error.h"

namespace distill::sparsity {

ReverseCubicSchedule::ReverseCubicSchedule(double initial_sparsity, double final_sparsity, int64_t begin_step,
                                           int64_t end_step, int64_t interval)
    : initial_(initial_sparsity), final_(final_sparsity), begin_(begin_step), end_(end_step), interval_(interval) {
  DISTILL_CHECK(initial_ >= 0 && initial_ <= 1, "sparsity.initial_sparsity must be in [0, 1], got ", initial_);
  DISTILL_CHECK(final_ >= 0 && final_ <= 1, "sparsity.final_sparsity must be in [0, 1], got ", final_);
  DISTILL_CHECK(interval_ > 0, "sparsity.interval must be > 0");
  DISTILL_CHECK(begin_ >= 0 && end_ >= begin_, "sparsity: the reverse_cubic schedule starts at step ", begin_,
                " (warmup_steps) but must reach final_sparsity by step ", end_,
                " (total steps - cooldown_steps); lower warmup_steps or cooldown_steps, or train longer");
}

double ReverseCubicSchedule::target(int64_t step) const {
  if (step < begin_) return initial_;
  if (step >= end_) return final_;
  const double done = static_cast<double>(step - begin_) / static_cast<double>(end_ - begin_);
  return initial_ + (final_ - initial_) * done * done * done;
}

bool ReverseCubicSchedule::isUpdateStep(int64_t step) const {
  if (step == end_) return true;
  return step >= begin_ && step <= end_ && (step - begin_) % interval_ == 0;
}

}  // namespace distill::sparsity
