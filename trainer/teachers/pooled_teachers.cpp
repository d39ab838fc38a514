// Placement pool: the teacher ranks run the teachers a few steps ahead and
// send each worker the top-k of its batch (trainer/teacher_rank.h); here they
// are checked against the batch and moved to the device as top-k rows (the
// loss expands them only where it must, step_loss.h).
#include <map>

#include "common/error.h"
#include "trainer/control_link.h"
#include "trainer/teachers/teacher_source.h"
#include "trainer/teachers/top_k_message.h"

namespace distill::teachers {
namespace {

class PooledTeachers : public TeacherSource {
 public:
  PooledTeachers(trainer::ControlLink& link, int teachers, c10::Device device, double timeout_seconds)
      : link_(link), teachers_(teachers), device_(device), timeout_(timeout_seconds) {}

  kd::TeacherOutputs outputs(uint64_t step, const std::vector<uint64_t>& samples, const data::Batch& micro,
                             int64_t first_row) override {
    if (step != step_) receive(step, samples);
    const int64_t rows = micro.input_ids.size(0);
    const double share = static_cast<double>(rows) / static_cast<double>(std::max<size_t>(samples.size(), 1));
    kd::TeacherOutputs out;
    for (size_t k = 0; k < top_.size(); ++k) {
      const TopK& t = top_[k];
      const TopK here{t.log_probs.narrow(0, first_row, rows).to(device_), t.indices.narrow(0, first_row, rows).to(device_),
                      t.residual.narrow(0, first_row, rows).to(device_)};
      out.top_k.push_back({topKRows(here), vocab_[k]});
      out.seconds.push_back(seconds_[k] * share);  // the teacher rank's time, not this worker's wait
    }
    return out;
  }

 private:
  void receive(uint64_t step, const std::vector<uint64_t>& samples) {
    top_.clear();
    vocab_.clear();
    seconds_.clear();
    for (int k = 0; k < teachers_; ++k) {
      const control::TeacherOutput m = link_.teacherOutput(step, static_cast<uint32_t>(k), timeout_);
      const std::string from = "teacher " + std::to_string(k) + "'s output for step " + std::to_string(step + 1);
      DISTILL_CHECK(std::equal(samples.begin(), samples.end(), m.samples().begin(), m.samples().end()), from,
                    " is for other samples than this worker's batch (", m.samples_size(), " samples, the batch has ",
                    samples.size(), ")");
      top_.push_back(decodeTopK(m, from));
      DISTILL_CHECK(top_.back().residual.size(0) == static_cast<int64_t>(samples.size()), from, " has ",
                    top_.back().residual.size(0), " rows, the batch ", samples.size());
      vocab_.push_back(m.vocab());
      seconds_.push_back(m.seconds());
    }
    step_ = step;
  }

  trainer::ControlLink& link_;
  int teachers_;
  c10::Device device_;
  double timeout_;
  uint64_t step_ = UINT64_MAX;  // the step top_ holds
  std::vector<TopK> top_;
  std::vector<int64_t> vocab_;
  std::vector<double> seconds_;
};

}  // namespace

std::unique_ptr<TeacherSource> pooledTeachers(trainer::ControlLink& link, int teachers, c10::Device device,
                                              double timeout_seconds) {
  return std::make_unique<PooledTeachers>(link, teachers, device, timeout_seconds);
}

}  // namespace distill::teachers
