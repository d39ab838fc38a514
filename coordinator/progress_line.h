// The coordinator's one-line view of a running job on stderr:
//
//   step 120/600 (20%) | loss 0.8123 | 2150 samples/s | sparsity 0.62 (target 0.65) | ETA 1m12s
//
// On a terminal the line is redrawn in place (\r) at most 4 times a second; in
// a log file (stderr not a terminal) one full line is written every
// `progress_seconds`, so logs of long jobs stay short.
//
//   coordinator::ProgressLine progress(/*progress_seconds=*/30, coordinator::stderrIsTerminal());
//   progress.recordStep(completed_steps, now);         // when a step completes
//   if (progress.due(now)) {
//     state.eta_seconds = progress.etaSeconds(total_steps);
//     std::fputs(progress.render(state).c_str(), stderr);
//   }
//   std::fputs(progress.finish().c_str(), stderr);      // at the end
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>

namespace distill::coordinator {

// What the line shows. A NaN number (nothing reported yet) prints as "-".
struct ProgressState {
  uint64_t step = 0;  // completed steps
  uint64_t total_steps = 0;
  double loss = 0;
  double samples_per_second = 0;
  double sparsity = 0;
  double sparsity_target = 0;
  double eta_seconds = 0;  // negative or NaN: unknown
};

// "42s", "1m12s", "3h05m" (hours drop the seconds); negative or NaN gives "?".
std::string formatDuration(double seconds);
// The progress line without any terminal control characters or newline.
std::string formatProgress(const ProgressState& state);
// Whether stderr is a terminal (isatty), which picks the redraw mode.
bool stderrIsTerminal();

class ProgressLine {
 public:
  // progress_seconds: interval between lines when not on a terminal.
  // window: how many recent steps the ETA averages over.
  ProgressLine(double progress_seconds, bool terminal, std::size_t window = 50);

  // `completed` steps (the job's total, not this run's) are done at `now`
  // (seconds, any monotonic origin). Repeating the latest count is ignored;
  // a smaller count (resume from an older checkpoint) restarts the window.
  void recordStep(uint64_t completed, double now);
  // Seconds until `total_steps` steps are done, from the mean step time over
  // the recent window; -1 while fewer than two steps are recorded.
  double etaSeconds(uint64_t total_steps) const;

  // True if a line should be written at `now`; then counts it as written.
  // The first call is always due.
  bool due(double now);
  // The text to write: "\r<line>\x1b[K" on a terminal (redraw, clear the
  // rest), "<line>\n" otherwise.
  std::string render(const ProgressState& state);
  // Text that ends the output cleanly: "\n" on a terminal after a redrawn line.
  std::string finish();

 private:
  double interval_;
  bool terminal_;
  std::size_t window_;
  bool printed_ = false;
  bool line_open_ = false;
  double last_due_ = 0;
  std::deque<std::pair<uint64_t, double>> recent_;  // (completed steps, time), oldest first
};

}  // namespace distill::coordinator
