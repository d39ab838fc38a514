// A teacher rank (placement pool; world ranks N+1..N+P after the N workers):
// holds some of the job's teachers in inference mode and serves them. The
// coordinator sends it TeacherRequests (which samples of which worker's step)
// a few steps ahead of the workers; it runs each of its teachers once over
// every request of a step together, and sends each worker the top-k of its
// rows (teachers/top_k_message.h), so the teachers' forward overlaps the
// students' step. It reports Progress (the watchdog names it if it stalls)
// and PoolReports (metrics); Command FINISH ends it.
//
//   control::Bootstrap boot = control::broadcastBootstrap({});
//   TeacherRank server(config, boot, channel, Placement{...});
//   server.run();   // throws distill::Error; the caller reports it as a Failure
#pragma once

#include <memory>
#include <string>

#include "proto/config.pb.h"
#include "proto/control.pb.h"
#include "trainer/worker.h"

namespace distill::trainer {

class TeacherRank {
 public:
  TeacherRank(config::JobConfig config, control::Bootstrap boot, control::MpiChannel& channel, const Placement& where);
  ~TeacherRank();
  void run();
  // `input_error`: a distill::Error (bad input when it happens while loading).
  void reportFailure(const std::string& message, bool input_error);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace distill::trainer
