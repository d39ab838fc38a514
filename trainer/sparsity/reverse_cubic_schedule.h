// The reverse-cubic curve: the mirror image of Zhu & Gupta's cubic schedule,
// pruning slowly at first (while the network is still learning which weights
// matter) and fast near the end.
//
//   begin = warmup_steps, end = total_steps - cooldown_steps
//   s(t) = s_i                                           t < begin
//        = s_i + (s_f - s_i) * ((t - begin)/(end - begin))^3   begin <= t < end
//        = s_f                                           t >= end
//
// Masks are recomputed at begin, every `interval` steps after it, and at end.
//
//   sparsity: {schedule: reverse_cubic, final_sparsity: 0.9, warmup_steps: 100, interval: 50}
#pragma once

#include "trainer/sparsity/schedule.h"

namespace distill::sparsity {

class ReverseCubicSchedule : public SparsitySchedule {
 public:
  // Throws distill::Error on sparsities outside [0,1], interval 0 or end < begin.
  ReverseCubicSchedule(double initial_sparsity, double final_sparsity, int64_t begin_step, int64_t end_step,
                       int64_t interval);
  std::string name() const override { return "reverse_cubic"; }
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
