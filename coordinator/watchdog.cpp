#include "coordinator/watchdog.h"

#include <algorithm>
#include <cstdio>
#include <tuple>

#include "common/error.h"

namespace distill::coordinator {

std::string Stall::describe() const {
  char seconds[32];
  std::snprintf(seconds, sizeof(seconds), "%.1f", silent_seconds);
  std::string text = detail::concat(name, " silent for ", seconds, " s, last seen at step ", step, " in phase ", phase);
  for (size_t i = 0; i < also_silent.size(); ++i) {
    const Stall& o = also_silent[i];
    std::snprintf(seconds, sizeof(seconds), "%.1f", o.silent_seconds);
    text += detail::concat(i == 0 ? " (also silent: " : "; ", o.name, " for ", seconds, " s, at step ", o.step,
                           " in phase ", o.phase);
  }
  return also_silent.empty() ? text : text + ")";
}

Watchdog::Watchdog(int num_workers, double timeout_seconds, double now, double slow_timeout_seconds,
                   std::set<std::string> slow_phases)
    : timeout_(timeout_seconds),
      slow_timeout_(std::max(timeout_seconds, slow_timeout_seconds)),
      slow_phases_(std::move(slow_phases)),
      seen_(static_cast<size_t>(num_workers)) {
  for (size_t w = 0; w < seen_.size(); ++w) {
    seen_[w].at = now;
    seen_[w].name = detail::concat("worker ", w, " (rank ", w + 1, ")");
  }
}

void Watchdog::setName(int member, std::string name) { seen_.at(static_cast<size_t>(member)).name = std::move(name); }

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

Stall Watchdog::lastSeen(int member, double now) const {
  const Seen& s = seen_.at(static_cast<size_t>(member));
  return Stall{member, s.name, s.step, s.phase, now - s.at, {}};
}

namespace {
// Phases in which a worker waits for its peers: a worker stuck there is more
// likely a victim of another worker than the cause.
bool waitsForPeers(const std::string& phase) {
  return phase == "allreduce" || phase == "masks" || phase == "rendezvous" || phase == "eval";
}
}  // namespace

std::optional<Stall> Watchdog::check(double now) const {
  bool any_stalled = false;
  for (const Seen& s : seen_) {
    const double allowed = slow_phases_.count(s.phase) ? slow_timeout_ : timeout_;
    any_stalled |= !s.done && now - s.at > allowed;
  }
  if (!any_stalled) return std::nullopt;
  // Name the worker the others wait for: among those silent for over half the
  // timeout (one that still reports is no culprit, however far behind), the
  // one furthest behind, preferring one outside a collective, then the one
  // silent the longest.
  std::optional<Stall> culprit;
  auto key = [&](const Seen& s) { return std::make_tuple(s.step, waitsForPeers(s.phase), -(now - s.at)); };
  for (size_t w = 0; w < seen_.size(); ++w) {
    const Seen& s = seen_[w];
    if (s.done || now - s.at <= timeout_ / 2) continue;
    if (!culprit || key(s) < key(seen_[static_cast<size_t>(culprit->worker)])) {
      culprit = Stall{static_cast<int>(w), s.name, s.step, s.phase, now - s.at, {}};
    }
  }
  for (size_t w = 0; w < seen_.size(); ++w) {
    const Seen& s = seen_[w];
    if (s.done || static_cast<int>(w) == culprit->worker || now - s.at <= timeout_ / 2) continue;
    culprit->also_silent.push_back(Stall{static_cast<int>(w), s.name, s.step, s.phase, now - s.at, {}});
  }
  return culprit;
}

}  // namespace distill::coordinator
