// Where a worker's teacher outputs come from: one source per teacher
// placement (common/teacher_placement.h), each in its own file.
//
//   live_teachers.cpp    replicate   runs every teacher on the batch, here
//   cached_teachers.cpp  cache       reads the teacher pass's top-k files
//   pooled_teachers.cpp  pool        receives the top-k the teacher ranks sent
//
//   auto source = teachers::liveTeachers(std::move(models), spec, passes);
//   kd::TeacherOutputs out = source->outputs(step, samples, micro, first_row);
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/script.h>

#include "proto/config.pb.h"
#include "trainer/data/dataset.h"
#include "trainer/step_loss.h"
#include "trainer/teachers/teacher_cache.h"

namespace distill::trainer {
class ControlLink;
}

namespace distill::teachers {

class TeacherSource {
 public:
  virtual ~TeacherSource() = default;
  // The teachers' outputs for `micro`: rows [first_row, first_row + its rows)
  // of this worker's batch of `step`, whose sample ids are `samples` (the
  // whole batch's). Logits as kd::TeacherOutputs holds them (fp32 rows, on the
  // micro-batch's device).
  virtual kd::TeacherOutputs outputs(uint64_t step, const std::vector<uint64_t>& samples, const data::Batch& micro,
                                     int64_t first_row) = 0;
  // Samples since the previous call whose outputs were read from a cache.
  virtual uint64_t takeCachedSamples() { return 0; }
};

// Placement replicate: the teachers run here, once in eval mode and `passes`
// more times with dropout on when passes > 1 (the mc_dropout combiner).
std::unique_ptr<TeacherSource> liveTeachers(std::vector<torch::jit::Module> teachers, const config::DistillSpec& spec,
                                            int passes);

// Placement cache: one opened cache per teacher, in distill.teachers order.
std::unique_ptr<TeacherSource> cachedTeachers(std::vector<TeacherCache> caches, c10::Device device);

// Placement pool: `teachers` outputs per step, arriving through `link` from
// the teacher ranks; a wait longer than `timeout_seconds` is an error.
std::unique_ptr<TeacherSource> pooledTeachers(trainer::ControlLink& link, int teachers, c10::Device device,
                                              double timeout_seconds);

}  // namespace distill::teachers
