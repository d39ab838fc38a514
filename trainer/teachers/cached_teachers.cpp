// Placement cache: the teachers' top-k outputs read from the files the
// teacher pass wrote (teacher_cache.h), moved to the device as they are: the
// loss uses the top-k without dense logits where it can (step_loss.h).
#include "common/clock.h"
#include "trainer/teachers/teacher_source.h"

namespace distill::teachers {
namespace {

class CachedTeachers : public TeacherSource {
 public:
  CachedTeachers(std::vector<TeacherCache> caches, c10::Device device) : caches_(std::move(caches)), device_(device) {}

  kd::TeacherOutputs outputs(uint64_t, const std::vector<uint64_t>& samples, const data::Batch& micro,
                             int64_t first_row) override {
    const auto rows = micro.input_ids.size(0);
    const std::vector<uint64_t> ids(samples.begin() + first_row, samples.begin() + first_row + rows);
    kd::TeacherOutputs out;
    for (const auto& cache : caches_) {
      const double started = clock::monotonicSeconds();
      const TopK top = cache.gather(ids);
      const TopK here{top.log_probs.to(device_), top.indices.to(device_), top.residual.to(device_)};
      out.top_k.push_back({topKRows(here), cache.vocab()});
      out.seconds.push_back(clock::monotonicSeconds() - started);
    }
    cached_ += ids.size();
    return out;
  }

  uint64_t takeCachedSamples() override { return std::exchange(cached_, 0); }

 private:
  std::vector<TeacherCache> caches_;
  c10::Device device_;
  uint64_t cached_ = 0;
};

}  // namespace

std::unique_ptr<TeacherSource> cachedTeachers(std::vector<TeacherCache> caches, c10::Device device) {
  return std::make_unique<CachedTeachers>(std::move(caches), device);
}

}  // namespace distill::teachers
