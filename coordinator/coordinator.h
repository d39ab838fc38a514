// The coordinator (world rank 0): owns the job's state and decides; loads no model.
//
// It plans the data order (DataSchedule), selects each epoch's samples from
// the workers' entropies when training.data_selection is on (DataSelection),
// streams batch assignments to the workers a few steps ahead (and, with
// teacher ranks, the same batches to them as TeacherRequests, so the
// teachers' outputs arrive before the workers need them), watches their progress (Watchdog), commits
// checkpoints (CheckpointCommitter), serves /metrics (JobMetrics) and prints the
// progress line. The protocol is written down in proto/control.proto.
//
//   Coordinator coordinator(config, options, channel, startStore);
//   return coordinator.run();   // the process exit code
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/exit_codes.h"
#include "proto/config.pb.h"

namespace distill::control {
class MpiChannel;
}

namespace distill::coordinator {

struct CoordinatorOptions {
  bool resume = false;         // continue from <run_dir>/checkpoints/latest when it exists
  std::string config_yaml;     // the resolved config, saved into the run directory
  bool teacher_pass_only = false;  // `distill cache-teachers`: the teacher pass, then stop (no training)
  int teacher_ranks = 0;           // the last ranks serve teachers (placement pool, --teacher-ranks)
};

// Starts the c10d rendezvous store server on a free port and returns a handle
// that keeps it alive. The coordinator library has no LibTorch; the `distill`
// binary passes trainer/comm's implementation in.
using StoreServer = std::shared_ptr<void>;
using StoreServerStarter = std::function<StoreServer(uint16_t requested_port, uint16_t* bound_port)>;

// The job's exit codes: common/exit_codes.h.
using distill::kExitBadInput;
using distill::kExitFailure;
using distill::kExitOk;
using distill::kExitStopped;

class Coordinator {
 public:
  Coordinator(config::JobConfig config, CoordinatorOptions options, control::MpiChannel& channel,
              StoreServerStarter start_store);
  ~Coordinator();
  int run();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace distill::coordinator
