#include "trainer/sparsity/one_shot_schedule.h"

#include "common/error.h"

namespace distill::sparsity {

OneShotSchedule::OneShotSchedule(double sparsity, int64_t begin_step) : sparsity_(sparsity), begin_(begin_step) {
  DISTILL_CHECK(sparsity_ >= 0 && sparsity_ <= 1, "sparsity.final_sparsity must be in [0, 1], got ", sparsity_);
  DISTILL_CHECK(begin_ >= 0, "sparsity.warmup_steps must be >= 0");
}

}  // namespace distill::sparsity
