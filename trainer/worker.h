// A worker (world ranks 1..N): runs the training steps of DESIGN.md section 3.
//
//   control::Bootstrap boot = control::broadcastBootstrap({});
//   Worker worker(config, boot, channel, /*worker=*/rank - 1);
//   worker.run();   // throws distill::Error; the caller reports it as a Failure
#pragma once

#include <memory>

#include "proto/config.pb.h"
#include "proto/control.pb.h"

namespace distill::control {
class MpiChannel;
}

namespace distill::trainer {

class Worker {
 public:
  Worker(config::JobConfig config, control::Bootstrap boot, control::MpiChannel& channel, int worker);
  ~Worker();
  // Trains to the last step (or the coordinator's stop step); 0 on success.
  void run();
  // Reports `message` to the coordinator as this worker's failure.
  void reportFailure(const std::string& message);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace distill::trainer
