// Where the teachers run, planned by the coordinator before a job starts
// (distill.placement; `distill validate --print` shows the same plan):
//
//   replicate   every worker holds every teacher and runs it on its batch, live
//   cache       a teacher pass writes each teacher's top-k outputs beside the
//               dataset once (reused by later jobs with the same teacher file,
//               dataset and k); training reads them and holds no teacher
//   pool        teacher ranks (launch/distill-mpirun --teacher-ranks P) hold
//               the teachers and send each worker the top-k of its coming
//               batches; the workers hold no teacher
//
// "auto" chooses, in this order: no teachers -> none; teacher ranks launched
// -> pool; intermediate terms or
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
  int teacher_ranks = 0;                // ranks launched to serve teachers (--teacher-ranks)
};

struct Plan {
  std::string placement;  // "none", "replicate", "cache" or "pool"
  std::string reason;     // one sentence, for the log and validate --print
};

Plan plan(const config::JobConfig& cfg, const Inputs& inputs);

// Why teacher outputs reduced to their top-k (placements cache and pool)
// cannot serve this job ("" when they can): intermediate terms and the
// mc_dropout combiner need live teachers.
std::string topKRefusal(const config::DistillSpec& spec);

// What is wrong with launching `teacher_ranks` teacher ranks beside `workers`
// student workers for this job ("" when nothing): teacher ranks without
// placement pool or auto, placement pool without teacher ranks, no worker left.
std::string poolProblem(const config::JobConfig& cfg, int teacher_ranks, int workers);

// The teachers each of `ranks` teacher ranks holds: with at least as many
// ranks as teachers, one teacher per rank, rank r holding teacher r mod K (so
// teachers are replicated over the pool); with fewer, rank r holds every
// teacher k with k mod P = r.
std::vector<std::vector<uint32_t>> poolAssignment(int teachers, int ranks);

}  // namespace distill::placement
