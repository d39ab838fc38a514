#include "coordinator/progress_line.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace distill::coordinator {
namespace {

// A terminal redraw more often than this flickers and costs more than it tells.
constexpr double kTerminalInterval = 0.25;

std::string number(const char* format, double value) {
  if (std::isnan(value)) return "-";
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

}  // namespace

std::string formatDuration(double seconds) {
  if (std::isnan(seconds) || seconds < 0) return "?";
  const auto total = static_cast<uint64_t>(std::llround(seconds));
  const uint64_t hours = total / 3600, minutes = total % 3600 / 60, secs = total % 60;
  char buffer[48];
  if (hours > 0) {
    std::snprintf(buffer, sizeof(buffer), "%lluh%02llum", static_cast<unsigned long long>(hours),
                  static_cast<unsigned long long>(minutes));
  } else if (minutes > 0) {
    std::snprintf(buffer, sizeof(buffer), "%llum%02llus", static_cast<unsigned long long>(minutes),
                  static_cast<unsigned long long>(secs));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%llus", static_cast<unsigned long long>(secs));
  }
  return buffer;
}

std::string formatProgress(const ProgressState& state) {
  std::string line = "step " + std::to_string(state.step);
  if (state.total_steps > 0) {
    const auto percent = state.step * 100 / state.total_steps;  // floor: 100% only when done
    line += "/" + std::to_string(state.total_steps) + " (" + std::to_string(percent) + "%)";
  }
  line += " | loss " + number("%.4f", state.loss);
  line += " | " + number("%.0f", state.samples_per_second) + " samples/s";
  line += " | sparsity " + number("%.2f", state.sparsity) + " (target " + number("%.2f", state.sparsity_target) + ")";
  line += " | ETA " + formatDuration(state.eta_seconds);
  return line;
}

bool stderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

ProgressLine::ProgressLine(double progress_seconds, bool terminal, std::size_t window)
    : interval_(terminal ? kTerminalInterval : progress_seconds), terminal_(terminal), window_(window < 2 ? 2 : window) {}

void ProgressLine::recordStep(uint64_t completed, double now) {
  if (!recent_.empty()) {
    if (completed == recent_.back().first) return;  // the same step again (another worker's report)
    // A restart from a checkpoint can go back in steps; start the window afresh.
    if (completed < recent_.back().first) recent_.clear();
  }
  recent_.emplace_back(completed, now);
  while (recent_.size() > window_) recent_.pop_front();
}

double ProgressLine::etaSeconds(uint64_t total_steps) const {
  if (recent_.size() < 2) return -1;
  const auto& [first_step, first_time] = recent_.front();
  const auto& [last_step, last_time] = recent_.back();
  if (last_step >= total_steps) return 0;
  const double per_step = (last_time - first_time) / static_cast<double>(last_step - first_step);
  return per_step * static_cast<double>(total_steps - last_step);
}

bool ProgressLine::due(double now) {
  if (printed_ && now - last_due_ < interval_) return false;
  printed_ = true;
  last_due_ = now;
  return true;
}

std::string ProgressLine::render(const ProgressState& state) {
  if (!terminal_) return formatProgress(state) + "\n";
  line_open_ = true;
  return "\r" + formatProgress(state) + "\x1b[K";
}

std::string ProgressLine::finish() {
  if (!line_open_) return "";
  line_open_ = false;
  return "\n";
}

}  // namespace distill::coordinator
