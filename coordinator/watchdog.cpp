#include "coordinator/watchdog.h"

#include <cstdio>

#include "common/error.h"

namespace distill::coordinator {

std::string Stall::describe() const {
  char seconds[32];
  std::snprintf(seconds, sizeof(seconds), "%.1f", silent_seconds);
  return detail::concat("worker ", worker, " (rank ", worker + 1, ") silent for ", seconds,
                        " s, last seen at step ", step, " in phase ", phase);
}

Watchdog::Watchdog(int num_workers, double timeout_seconds, double now)
    : timeout_(timeout_seconds), seen_(static_cast<size_t>(num_workers)) {
  for (auto& s : seen_) s.at = now;
}

void Watchdog::progress(int worker, uint64_t step, const std::string& phase, double now) {
  DISTILL_ASSERT(worker >= 0 && worker < static_cast<int>(seen_.size()));
  seen_[worker].at = now;
  seen_[worker].step = step;
  seen_[worker].phase = phase;
}

void Watchdog::finished(int worker) { seen_.at(static_cast<size_t>(worker)).done = true; }

double Watchdog::silentSeconds(int worker, double now) const {
  return now - seen_.at(static_cast<size_t>(worker)).at;
}

std::optional<Stall> Watchdog::check(double now) const {
  std::optional<Stall> worst;
  for (size_t w = 0; w < seen_.size(); ++w) {
    const Seen& s = seen_[w];
    const double silent = now - s.at;
    if (s.done || silent <= timeout_) continue;
    if (!worst || silent > worst->silent_seconds) {
      worst = Stall{static_cast<int>(w), s.step, s.phase, silent};
    }
  }
  return worst;
}

}  // namespace distill::coordinator
