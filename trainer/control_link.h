// A worker's end of the control plane: batches in, progress and reports out.
//
// The worker asks for the batch of a step; the coordinator streams batches a few
// steps ahead, so this normally returns at once. Every phase change is reported
// (the coordinator's watchdog names the last phase of a stalled worker), and
// with it the time spent in the previous phase, for the step-time breakdown.
//
//   ControlLink link(channel, worker);
//   link.enter(step, "teachers");           // Progress message + phase timing
//   auto batch = link.batch(step);           // sample ids of this worker's slice
//   auto top = link.teacherOutput(step, 0);  // placement pool: from a teacher rank
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "control/mpi_channel.h"

namespace distill::trainer {

class ControlLink {
 public:
  ControlLink(control::MpiChannel& channel, int worker) : channel_(channel), worker_(worker) {}

  // Sends a Progress message and starts timing `phase`.
  void enter(uint64_t step, const std::string& phase);
  // Seconds per phase since the last call (for the step report); restarts the tally.
  std::map<std::string, double> takePhaseSeconds();
  // This worker's samples for `step`; waits for the coordinator if needed.
  // Empty when the coordinator asked every worker to stop before `step`.
  std::optional<std::vector<uint64_t>> batch(uint64_t step);
  // The epoch of the step batch() last returned (from the coordinator's ledger,
  // right after a resume on another number of workers too).
  uint64_t epoch() const { return epoch_; }
  // Placement pool: teacher `teacher`'s top-k for this worker's batch of
  // `step`, from whichever teacher rank the coordinator gave it to. Waits for
  // it, re-reporting the current phase every second: a stalled teacher rank
  // is the watchdog's to name (it reports progress of its own). Throws
  // distill::Error after `timeout_seconds`: the teacher ranks are alive (or the
  // watchdog would have ended the job) but the output never came.
  control::TeacherOutput teacherOutput(uint64_t step, uint32_t teacher, double timeout_seconds);
  void send(const control::ControlMessage& message) { channel_.send(0, message); }
  // `input_error`: a distill::Error, which during setup means bad input (Failure.bad_input).
  void failure(uint64_t step, const std::string& message, bool input_error);
  bool flush() { return channel_.flush(std::chrono::seconds(10)); }

 private:
  std::map<uint64_t, uint64_t> epochs_;  // step -> epoch, for the assigned steps
  uint64_t epoch_ = 0;
  void drain();  // handles every message that has arrived
  void handle(const control::Incoming& in);

  control::MpiChannel& channel_;
  int worker_;
  std::map<uint64_t, std::vector<uint64_t>> batches_;
  std::map<std::pair<uint64_t, uint32_t>, control::TeacherOutput> teacher_outputs_;  // (step, teacher)
  uint64_t stop_after_ = UINT64_MAX;
  std::string phase_ = "startup";
  double phase_started_ = 0;
  std::map<std::string, double> phase_seconds_;
};

}  // namespace distill::trainer
