// Where the teachers run, planned by the coordinator before a job starts
// (distill.placement; `distill validate --print` shows the same plan):
//
//   replicate   every worker holds every teacher and runs it on its batch, live
//   cache       a teacher pass writes each teacher's top-k outputs beside the
//               dataset once (reused by later jobs with the same teacher file,
//               dataset and k); training reads them and holds no teacher
//
// "auto" chooses, in this order: no teachers -> none; intermediate terms or
// the mc_dropout combiner (they need live teachers) -> replicate; every
// teacher's cache already complete -> cache; teachers plus the student's
// training state over runtime.memory_budget_gb -> cache; two epochs or more
// -> cache (one pass replaces a teacher forward per sample per epoch);
// otherwise replicate (one epoch: a cache costs the forwards it saves).
//
//   auto plan = placement::plan(cfg, inputs);   // plan.placement, plan.reason
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace distill::placement {

struct Inputs {
  std::vector<uint64_t> teacher_bytes;  // teacher file sizes, distill.teachers order
  uint64_t student_bytes = 0;           // student file size
  std::vector<bool> cache_complete;     // per teacher: its cache is there and complete
  double epochs = 1;                    // epochs the job covers
};

struct Plan {
  std::string placement;  // "none", "replicate" or "cache"
  std::string reason;     // one sentence, for the log and validate --print
};

Plan plan(const config::JobConfig& cfg, const Inputs& inputs);

// Why placement `cache` cannot serve this job ("" when it can): intermediate
// terms and the mc_dropout combiner need live teachers.
std::string cacheRefusal(const config::DistillSpec& spec);

}  // namespace distill::placement
