// The cubic schedule of Zhu & Gupta (2017), "To prune, or not to prune":
// sparsity rises fast while the network has many redundant weights and slows
// down as it approaches the final sparsity.
//
//   begin = warmup_steps, end = total_steps - cooldown_steps
//   s(t) = s_i                                              t < begin
//        = s_f + (s_i - s_f) * (1 - (t - begin)/(end - begin))^3   begin <= t < end
//        = s_f                                              t >= end
//
// Masks are recomputed at begin, every `interval` steps after it, and at end.
//
//   sparsity: {schedule: cubic, initial_sparsity: 0, final_sparsity: 0.9,
//              warmup_steps: 100, cooldown_steps: 200, interval: 50}
#pragma once

#include "trainer/sparsity/schedule.h"

namespace distill::sparsity {

class CubicSchedule : public SparsitySchedule {
 public:
  // Throws distill::Error when the sparsities are outside [0,1], interval is
  // 0, or warm-up plus cool-down leave no room (end < begin).
  CubicSchedule(double initial_sparsity, double final_sparsity, int64_t begin_step, int64_t end_step,
                int64_t interval);
  std::string name() const override { return "cubic"; }
  double target(int64_t step) const override;
  bool isUpdateStep(int64_t step) const override;

 private:
  double initial_;
  double final_;
  int64_t begin_;
  int64_t end_;
  int64_t interval_;
};

}  // namespace distill::sparsity
