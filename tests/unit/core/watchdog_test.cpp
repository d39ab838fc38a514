#include "coordinator/watchdog.h"

#include <gtest/gtest.h>

namespace distill::coordinator {
namespace {

TEST(Watchdog, QuietWithinTheTimeout) {
  Watchdog dog(2, 10.0, 100.0);
  dog.progress(0, 3, "forward", 105.0);
  dog.progress(1, 3, "backward", 106.0);
  EXPECT_FALSE(dog.check(115.0).has_value());
}

TEST(Watchdog, NamesTheSilentWorkerWithItsLastStepAndPhase) {
  Watchdog dog(3, 10.0, 0.0);
  dog.progress(0, 7, "optimizer", 20.0);
  dog.progress(1, 6, "allreduce", 12.0);
  dog.progress(2, 7, "optimizer", 20.0);
  const auto stall = dog.check(25.0);
  ASSERT_TRUE(stall.has_value());
  EXPECT_EQ(stall->worker, 1);
  EXPECT_EQ(stall->step, 6u);
  EXPECT_EQ(stall->phase, "allreduce");
  EXPECT_DOUBLE_EQ(stall->silent_seconds, 13.0);
  EXPECT_EQ(stall->describe(), "worker 1 (rank 2) silent for 13.0 s, last seen at step 6 in phase allreduce");
}

TEST(Watchdog, AWorkerThatNeverReportsIsStalledInStartup) {
  Watchdog dog(1, 5.0, 0.0);
  const auto stall = dog.check(6.0);
  ASSERT_TRUE(stall.has_value());
  EXPECT_EQ(stall->phase, "startup");
}

TEST(Watchdog, FinishedWorkersAreNotWatched) {
  Watchdog dog(1, 5.0, 0.0);
  dog.finished(0);
  EXPECT_FALSE(dog.check(60.0).has_value());
}

}  // namespace
}  // namespace distill::coordinator
