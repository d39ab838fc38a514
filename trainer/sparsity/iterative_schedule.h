// Iterative pruning (Han et al. 2015; Frankle & Carbin 2019): every
// `interval` steps from warmup_steps on, prune a fixed fraction f of the
// weights still kept, until final_sparsity is reached.
//
//   after the j-th update (j = 0, 1, ...):  s_j = min(final, 1 - (1 - f)^(j+1))
//   updates at begin, begin + interval, ... while s has not reached final
//
//   sparsity: {schedule: iterative, final_sparsity: 0.9, iterative_fraction: 0.2,
//              warmup_steps: 50, interval: 50}
#pragma once

#include "trainer/sparsity/schedule.h"

namespace distill::sparsity {

class IterativeSchedule : public SparsitySchedule {
 public:
  // Throws distill::Error when final is outside [0,1], fraction outside (0,1) or interval is 0.
  IterativeSchedule(double final_sparsity, double fraction, int64_t begin_step, int64_t interval);
  std::string name() const override { return "iterative"; }
  double target(int64_t step) const override;
  bool isUpdateStep(int64_t step) const override;

 private:
  double final_;
  double fraction_;
  int64_t begin_;
  int64_t interval_;
  int64_t updates_;  // updates needed to reach final
};

}  // namespace distill::sparsity
