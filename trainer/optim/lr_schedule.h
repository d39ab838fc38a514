// The learning rate of each optimizer step: linear warm-up from 0 to lr, then
// constant, linear or cosine decay to min_lr_ratio * lr at the last step
// (the shapes of Hugging Face's get_*_schedule_with_warmup).
//
//   optim::LearningRateSchedule lr(job.optimizer(), total_steps);
//   optimizer.step(lr.at(step), &masks);   // step = optimizer steps done so far
//
// With W = warmup_steps, N = total_steps, r = min_lr_ratio:
//   at(s) = lr * s / W                                  s < W
//   p = (s - W) / (N - W), clamped to [0, 1]
//   constant: lr;  linear: lr * (r + (1-r)(1-p));  cosine: lr * (r + (1-r)(1+cos(pi p))/2)
#pragma once

#include <cstdint>
#include <string>

#include "proto/config.pb.h"

namespace distill::optim {

class LearningRateSchedule {
 public:
  // Throws distill::Error naming optimizer.decay, .lr or .min_lr_ratio when invalid.
  LearningRateSchedule(const config::OptimizerSpec& spec, int64_t total_steps);
  // Learning rate for the step taken after `step` optimizer steps.
  double at(int64_t step) const;

 private:
  double lr_;
  double min_ratio_;
  int64_t warmup_;
  int64_t total_;
  std::string decay_;
};

}  // namespace distill::optim
