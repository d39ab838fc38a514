// Detects a worker that stopped making progress.
//
// Workers report a Progress message at every phase change of a step. A worker
// whose last report is older than the timeout is stalled: the coordinator names
// it, with the step and phase it was last seen in, and aborts the job rather
// than leave every other rank waiting in a collective. A plain class, no MPI.
//
//   Watchdog dog(/*workers=*/2, /*timeout_seconds=*/60, now);
//   dog.progress(1, /*step=*/12, "allreduce", now);
//   if (auto stall = dog.check(now)) abort(stall->describe());
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace distill::coordinator {

struct Stall {
  int worker = -1;
  std::string name;  // "worker 1 (rank 2)", or what Watchdog::setName gave
  uint64_t step = 0;
  std::string phase;
  double silent_seconds = 0;
  // Other workers silent for more than half the timeout: inside a collective
  // the cause and its victims look alike (both silent in "allreduce"), so
  // they are named too.
  std::vector<Stall> also_silent;
  // "worker 1 (rank 2) silent for 61.0 s, last seen at step 12 in phase allreduce
  //  (also silent: worker 0 (rank 1) for 60.9 s, at step 12 in phase allreduce)"
  std::string describe() const;
};

class Watchdog {
 public:
  // Workers in one of `slow_phases` (model loading, checkpoints, ...) are
  // allowed `slow_timeout_seconds` instead.
  Watchdog(int num_workers, double timeout_seconds, double now, double slow_timeout_seconds = 0,
           std::set<std::string> slow_phases = {});
  void progress(int worker, uint64_t step, const std::string& phase, double now);
  // How stalls name `member` (default "worker N (rank N+1)"): teacher ranks
  // are watched as members after the workers.
  void setName(int member, std::string name);
  // A finished worker is no longer watched.
  void finished(int worker);
  // The worker silent the longest, if it has been silent longer than the timeout.
  std::optional<Stall> check(double now) const;
  double silentSeconds(int worker, double now) const;
  // Where `member` was last seen, as a Stall (whether or not it is one).
  Stall lastSeen(int member, double now) const;

 private:
  struct Seen {
    double at = 0;
    uint64_t step = 0;
    std::string phase = "startup";
    bool done = false;
    std::string name;
  };
  double timeout_;
  double slow_timeout_;
  std::set<std::string> slow_phases_;
  std::vector<Seen> seen_;
};

}  // namespace distill::coordinator
