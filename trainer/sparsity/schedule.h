// Sparsity schedules: how sparse the student should be after each optimizer
// step, and on which steps the masks are recomputed.
//
//   auto schedule = sparsity::makeSchedule(job.sparsity(), total_steps);
//   // after optimizer step `step` (0 = before the first step):
//   if (schedule->isUpdateStep(step)) masks.update(schedule->target(step), *criterion, scope);
//
// Adding a schedule: one file with a SparsitySchedule subclass and one line in
// schedule_registry.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace distill::sparsity {

class SparsitySchedule {
 public:
  virtual ~SparsitySchedule() = default;
  // The name used in the config (sparsity.schedule).
  virtual std::string name() const = 0;
  // Fraction of pruned entries wanted after `step` optimizer steps.
  virtual double target(int64_t step) const = 0;
  // Whether the masks are recomputed after `step` optimizer steps.
  virtual bool isUpdateStep(int64_t step) const = 0;
};

// The schedule named by spec.schedule() for a job of `total_steps` optimizer
// steps. Throws distill::Error naming the sparsity.* field that is wrong.
std::unique_ptr<SparsitySchedule> makeSchedule(const config::SparsitySpec& spec, int64_t total_steps);

// Names makeSchedule accepts, in registry order.
std::vector<std::string> scheduleNames();

}  // namespace distill::sparsity
