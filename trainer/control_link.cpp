#include "trainer/control_link.h"

#include "common/clock.h"
#include "common/error.h"
#include "control/sender_stamp.h"

namespace distill::trainer {

void ControlLink::enter(uint64_t step, const std::string& phase) {
  const double now = clock::monotonicSeconds();
  if (phase_started_ > 0) phase_seconds_[phase_] += now - phase_started_;
  phase_ = phase;
  phase_started_ = now;
  control::ControlMessage message;
  message.mutable_progress()->set_step(step);
  message.mutable_progress()->set_phase(phase);
  control::stampSender(*message.mutable_progress());
  channel_.send(0, message);
}

std::map<std::string, double> ControlLink::takePhaseSeconds() {
  std::map<std::string, double> out;
  out.swap(phase_seconds_);
  return out;
}

void ControlLink::handle(const control::Incoming& in) {
  const control::ControlMessage& message = in.message;
  if (message.body_case() == control::ControlMessage::kTeacherOutput) {
    const auto& out = message.teacher_output();
    teacher_outputs_[{out.step(), out.teacher()}] = out;
    return;
  }
  DISTILL_CHECK(in.source == 0, "worker ", worker_, ": unexpected control message from rank ", in.source);
  switch (message.body_case()) {
    case control::ControlMessage::kAssignment:
      for (const auto& b : message.assignment().batches()) {
        batches_[b.step()].assign(b.samples().begin(), b.samples().end());
        epochs_[b.step()] = b.epoch();
      }
      break;
    case control::ControlMessage::kCommand:
      if (message.command().kind() == control::Command::STOP_AFTER) stop_after_ = message.command().step();
      break;
    default:
      DISTILL_FAIL("worker ", worker_, ": unexpected control message from the coordinator");
  }
}

void ControlLink::drain() {
  while (auto in = channel_.poll()) handle(*in);
}

std::optional<std::vector<uint64_t>> ControlLink::batch(uint64_t step) {
  drain();
  while (batches_.find(step) == batches_.end()) {
    if (step >= stop_after_) return std::nullopt;
    // No timeout here: if the coordinator dies, mpirun ends this process.
    if (auto in = channel_.receive(std::chrono::milliseconds(1000))) handle(*in);
  }
  epoch_ = epochs_[step];
  epochs_.erase(epochs_.begin(), epochs_.upper_bound(step));
  auto node = batches_.extract(step);
  // Batches of earlier steps are never needed again.
  batches_.erase(batches_.begin(), batches_.lower_bound(step));
  return std::move(node.mapped());
}

control::TeacherOutput ControlLink::teacherOutput(uint64_t step, uint32_t teacher, double timeout_seconds) {
  drain();
  const std::pair<uint64_t, uint32_t> key{step, teacher};
  const double started = clock::monotonicSeconds();
  double heartbeat = started;
  while (teacher_outputs_.find(key) == teacher_outputs_.end()) {
    DISTILL_CHECK(clock::monotonicSeconds() - started < timeout_seconds, "worker ", worker_, ": waited ",
                  timeout_seconds, " s for teacher ", teacher, "'s output of step ", step + 1,
                  " from the teacher ranks, which are alive but did not send it");
    if (auto in = channel_.receive(std::chrono::milliseconds(200))) handle(*in);
    if (clock::monotonicSeconds() - heartbeat > 1.0) {
      enter(step, phase_);
      heartbeat = clock::monotonicSeconds();
    }
  }
  auto node = teacher_outputs_.extract(key);
  return std::move(node.mapped());
}

void ControlLink::failure(uint64_t step, const std::string& message, bool input_error) {
  control::ControlMessage m;
  m.mutable_failure()->set_step(step);
  m.mutable_failure()->set_phase(phase_);
  m.mutable_failure()->set_message(message);
  m.mutable_failure()->set_bad_input(input_error && phase_ == "setup");
  channel_.send(0, m);
}

}  // namespace distill::trainer
