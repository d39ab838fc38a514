// One-shot pruning: train dense for warmup_steps, prune to final_sparsity once,
// then fine-tune with the masks fixed (the classic prune-then-fine-tune recipe,
// and the usual way to apply an N:M pattern).
//
//   s(t) = 0 for t < begin, final_sparsity after;  one update, at begin = warmup_steps
//
//   sparsity: {schedule: one_shot, final_sparsity: 0.5, warmup_steps: 100}
#pragma once

#include "trainer/sparsity/schedule.h"

namespace distill::sparsity {

class OneShotSchedule : public SparsitySchedule {
 public:
  // Throws distill::Error when sparsity is outside [0,1] or begin_step < 0.
  OneShotSchedule(double sparsity, int64_t begin_step);
  std::string name() const override { return "one_shot"; }
  double target(int64_t step) const override { return step < begin_ ? 0.0 : sparsity_; }
  bool isUpdateStep(int64_t step) const override { return step == begin_; }

 private:
  double sparsity_;
  int64_t begin_;
};

}  // namespace distill::sparsity
