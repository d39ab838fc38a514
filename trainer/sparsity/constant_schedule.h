// The constant schedule: prune to final_sparsity after warmup_steps (before
// the first step when warmup_steps is 0) and keep that sparsity, re-ranking
// the weights every `interval` steps (so weights that grow important can come
// back while others are dropped).
//
//   s(t) = 0 for t < begin, final_sparsity after;  updates at begin, begin + interval, ...
//
//   sparsity: {schedule: constant, final_sparsity: 0.5, interval: 100}
#pragma once

#include "trainer/sparsity/schedule.h"

namespace distill::sparsity {

class ConstantSchedule : public SparsitySchedule {
 public:
  // Throws distill::Error when sparsity is outside [0,1] or interval is 0.
  ConstantSchedule(double sparsity, int64_t begin_step, int64_t interval);
  std::string name() const override { return "constant"; }
  double target(int64_t step) const override;
  bool isUpdateStep(int64_t step) const override;

 private:
  double sparsity_;
  int64_t begin_;
  int64_t interval_;
};

}  // namespace distill::sparsity
