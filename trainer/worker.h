// A worker (world ranks 1..N): runs the training steps of DESIGN.md section 3.
//
//   control::Bootstrap boot = control::broadcastBootstrap({});
//   Worker worker(config, boot, channel, Placement{rank - 1, local_worker, single_node});
//   worker.run();   // throws distill::Error; the caller reports it as a Failure
#pragma once

#include <memory>

#include "proto/config.pb.h"
#include "proto/control.pb.h"

namespace distill::control {
class MpiChannel;
}

namespace distill::trainer {

// Where a worker runs, from MPI (cli/train_command.cpp).
struct Placement {
  int worker = 0;           // index among all workers (world rank - 1)
  int local_worker = 0;     // index among the workers of this node: picks the GPU
  bool single_node = true;  // every rank on one node: the data plane may use loopback
};

class Worker {
 public:
  Worker(config::JobConfig config, control::Bootstrap boot, control::MpiChannel& channel, const Placement& where);
  ~Worker();
  // Trains to the last step (or the coordinator's stop step); 0 on success.
  void run();
  // Reports `message` to the coordinator as this worker's failure.
  // `input_error`: a distill::Error (bad input when it happens while loading).
  void reportFailure(const std::string& message, bool input_error);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace distill::trainer
