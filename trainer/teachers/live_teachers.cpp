// Placement replicate: every worker runs every teacher on its own batch.
#include "trainer/teachers/teacher_source.h"

namespace distill::teachers {
namespace {

class LiveTeachers : public TeacherSource {
 public:
  LiveTeachers(std::vector<torch::jit::Module> teachers, config::DistillSpec spec, int passes)
      : teachers_(std::move(teachers)), spec_(std::move(spec)), passes_(passes) {}

  kd::TeacherOutputs outputs(uint64_t, const std::vector<uint64_t>&, const data::Batch& micro, int64_t) override {
    return kd::runTeachers(teachers_, micro, spec_, passes_);
  }

 private:
  std::vector<torch::jit::Module> teachers_;
  config::DistillSpec spec_;
  int passes_;
};

}  // namespace

std::unique_ptr<TeacherSource> liveTeachers(std::vector<torch::jit::Module> teachers, const config::DistillSpec& spec,
                                            int passes) {
  return std::make_unique<LiveTeachers>(std::move(teachers), spec, passes);
}

}  // namespace distill::teachers
