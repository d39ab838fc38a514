// The coordinator's teacher plan for a job: the placement (common/teacher_placement.h)
// and, for placement "cache", each teacher's cache directory and the teacher
// pass's work (every dataset shard a teacher's cache lacks), spread over the
// workers by samples, least loaded first; for placement "pool", the teachers
// each teacher rank (world ranks workers+1 ..) holds. A cache left partial by a killed
// pass keeps its finished shards; only the missing ones are assigned.
//
//   TeacherPlan p = planTeachers(cfg, manifest, workers, epochs, teacher_ranks);
//   boot.set_placement(p.plan.placement);  // + cache_dirs, cache_work
#pragma once

#include <string>
#include <vector>

#include "common/dataset_manifest.h"
#include "common/teacher_placement.h"
#include "proto/config.pb.h"
#include "proto/control.pb.h"

namespace distill::coordinator {

struct TeacherPlan {
  placement::Plan plan;
  std::vector<std::string> cache_dirs;      // per teacher (placement cache)
  std::vector<control::CacheKey> cache_keys;  // per teacher (placement cache)
  std::vector<control::CacheWork> work;     // the teacher pass; empty when every cache is complete
  std::vector<control::PoolRank> pool;      // placement pool: the teacher ranks
  std::vector<std::string> notes;           // what the log should say: reuse, partial caches, stale ones
};

TeacherPlan planTeachers(const config::JobConfig& cfg, const data::DatasetManifest& manifest, int workers,
                         double epochs, int teacher_ranks = 0);

}  // namespace distill::coordinator
