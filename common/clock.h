// Wall-clock helpers shared by the coordinator and the workers.
#pragma once

#include <chrono>

namespace distill::clock {

inline double unixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Seconds on a monotonic clock, for durations.
inline double monotonicSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace distill::clock
