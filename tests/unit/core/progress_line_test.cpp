#include "coordinator/progress_line.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>

namespace distill::coordinator {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(FormatDuration, SecondsMinutesHours) {
  EXPECT_EQ(formatDuration(0), "0s");
  EXPECT_EQ(formatDuration(42), "42s");
  EXPECT_EQ(formatDuration(59.4), "59s");
  EXPECT_EQ(formatDuration(59.6), "1m00s");  // rounds to the nearest second first
  EXPECT_EQ(formatDuration(72), "1m12s");
  EXPECT_EQ(formatDuration(605), "10m05s");
  EXPECT_EQ(formatDuration(3 * 3600 + 5 * 60 + 30), "3h05m");  // hours drop the seconds
  EXPECT_EQ(formatDuration(27 * 3600), "27h00m");
  EXPECT_EQ(formatDuration(-1), "?");
  EXPECT_EQ(formatDuration(kNaN), "?");
}

TEST(FormatProgress, TheDocumentedLine) {
  ProgressState s;
  s.step = 120;
  s.total_steps = 600;
  s.loss = 0.81234;
  s.samples_per_second = 2150.4;
  s.sparsity = 0.6249;
  s.sparsity_target = 0.65;
  s.eta_seconds = 72;
  EXPECT_EQ(formatProgress(s),
            "step 120/600 (20%) | loss 0.8123 | 2150 samples/s | sparsity 0.62 (target 0.65) | ETA 1m12s");
}

TEST(FormatProgress, UnknownValuesPrintAsDashAndPercentRoundsDown) {
  ProgressState s;
  s.step = 599;
  s.total_steps = 600;
  s.loss = kNaN;
  s.samples_per_second = 0;
  s.sparsity = kNaN;
  s.sparsity_target = kNaN;
  s.eta_seconds = -1;
  EXPECT_EQ(formatProgress(s), "step 599/600 (99%) | loss - | 0 samples/s | sparsity - (target -) | ETA ?");
  s.total_steps = 0;  // length unknown: no fraction
  EXPECT_EQ(formatProgress(s).rfind("step 599 | loss", 0), 0u) << formatProgress(s);
}

TEST(ProgressLine, EtaAveragesTheRecentWindow) {
  ProgressLine line(30, false, /*window=*/3);
  EXPECT_EQ(line.etaSeconds(600), -1);
  line.recordStep(100, 0);
  EXPECT_EQ(line.etaSeconds(600), -1);
  line.recordStep(110, 50);  // slow start: 5 s per step
  line.recordStep(120, 55);
  // Window (100,0) (110,50) (120,55): 55 s over 20 steps, 480 steps left.
  EXPECT_DOUBLE_EQ(line.etaSeconds(600), 55.0 / 20 * 480);
  line.recordStep(130, 60);
  // The slow first interval left the window: 0.5 s per step.
  EXPECT_DOUBLE_EQ(line.etaSeconds(600), 0.5 * 470);
  line.recordStep(600, 300);
  EXPECT_EQ(line.etaSeconds(600), 0);
}

TEST(ProgressLine, EtaRestartsAfterStepsGoBack) {
  ProgressLine line(30, false);
  line.recordStep(100, 0);
  line.recordStep(200, 100);
  line.recordStep(200, 150);  // a repeat keeps the first time
  EXPECT_DOUBLE_EQ(line.etaSeconds(600), 1.0 * 400);
  line.recordStep(50, 200);  // resumed from an older checkpoint
  EXPECT_EQ(line.etaSeconds(600), -1);
  line.recordStep(60, 202);
  EXPECT_DOUBLE_EQ(line.etaSeconds(600), 0.2 * 540);
}

TEST(ProgressLine, LogModeWritesOneLineEveryProgressSeconds) {
  ProgressLine line(30, /*terminal=*/false);
  EXPECT_TRUE(line.due(1000));
  EXPECT_FALSE(line.due(1010));
  EXPECT_FALSE(line.due(1029.9));
  EXPECT_TRUE(line.due(1030));
  EXPECT_FALSE(line.due(1045));
  EXPECT_TRUE(line.due(1100));
  ProgressState s;
  const std::string text = line.render(s);
  EXPECT_EQ(text, formatProgress(s) + "\n");
  EXPECT_EQ(line.finish(), "");
}

TEST(ProgressLine, TerminalModeRedrawsAtMostFourTimesASecond) {
  ProgressLine line(30, /*terminal=*/true);
  EXPECT_TRUE(line.due(5));
  EXPECT_FALSE(line.due(5.1));
  EXPECT_FALSE(line.due(5.2));
  EXPECT_TRUE(line.due(5.25));
  EXPECT_TRUE(line.due(5.5));
  EXPECT_EQ(line.finish(), "");  // nothing drawn yet
  ProgressState s;
  EXPECT_EQ(line.render(s), "\r" + formatProgress(s) + "\x1b[K");
  EXPECT_EQ(line.finish(), "\n");
  EXPECT_EQ(line.finish(), "");
}

// Runs stderrIsTerminal() with stderr pointed at `fd`.
bool terminalWithStderrAt(int fd) {
  const int saved = ::dup(STDERR_FILENO);
  ::dup2(fd, STDERR_FILENO);
  const bool result = stderrIsTerminal();
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  return result;
}

TEST(ProgressLine, StderrIsTerminalFollowsIsatty) {
  const int file = ::open("/dev/null", O_WRONLY);
  ASSERT_GE(file, 0);
  EXPECT_FALSE(terminalWithStderrAt(file));
  ::close(file);

  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) GTEST_SKIP() << "no pseudo-terminal here";
  const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  ASSERT_GE(slave, 0);
  EXPECT_TRUE(terminalWithStderrAt(slave));
  ::close(slave);
  ::close(master);
}

}  // namespace
}  // namespace distill::coordinator
