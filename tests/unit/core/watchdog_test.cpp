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

TEST(Watchdog, BlamesTheWorkerTheOthersWaitForNotTheOneWaitingInTheCollective) {
  // Worker 0 hangs in backward; worker 1 reached the all-reduce of the same step
  // earlier and waits there. Worker 1 is silent longer, but worker 0 is the cause.
  Watchdog dog(2, 5.0, 0.0);
  dog.progress(1, 25, "allreduce", 10.0);
  dog.progress(0, 25, "backward", 10.5);
  const auto stall = dog.check(15.2);
  ASSERT_TRUE(stall.has_value());
  EXPECT_EQ(stall->worker, 0);
  EXPECT_EQ(stall->phase, "backward");
}

TEST(Watchdog, NamesTheOthersSilentInsideTheCollectiveToo) {
  // Both entered the all-reduce of step 25, then worker 0 was stopped inside it:
  // from the outside they look alike, so both are named (worker 1, silent
  // longer, first). Worker 2 reported 2 s ago: under half the timeout.
  Watchdog dog(3, 6.0, 0.0);
  dog.progress(1, 25, "allreduce", 10.0);
  dog.progress(0, 25, "allreduce", 10.2);
  dog.progress(2, 25, "allreduce", 14.1);
  const auto stall = dog.check(16.1);
  ASSERT_TRUE(stall.has_value());
  EXPECT_EQ(stall->worker, 1);
  ASSERT_EQ(stall->also_silent.size(), 1u);
  EXPECT_EQ(stall->describe(),
            "worker 1 (rank 2) silent for 6.1 s, last seen at step 25 in phase allreduce (also silent: worker 0 "
            "(rank 1) for 5.9 s, at step 25 in phase allreduce)");
}

TEST(Watchdog, AWorkerThatNeverReportsIsStalledInStartup) {
  Watchdog dog(1, 5.0, 0.0);
  const auto stall = dog.check(6.0);
  ASSERT_TRUE(stall.has_value());
  EXPECT_EQ(stall->phase, "startup");
}

TEST(Watchdog, SlowPhasesGetTheLongerTimeout) {
  Watchdog dog(2, 5.0, 0.0, 30.0, {"checkpoint"});
  dog.progress(0, 3, "checkpoint", 2.0);
  dog.progress(1, 3, "forward", 0.0);
  auto stall = dog.check(10.0);
  ASSERT_TRUE(stall.has_value());
  EXPECT_EQ(stall->worker, 1);  // worker 0 is still within its 30 s of checkpointing
  dog.progress(1, 3, "checkpoint", 10.0);
  EXPECT_FALSE(dog.check(29.0).has_value());
  stall = dog.check(33.0);
  ASSERT_TRUE(stall.has_value());
  EXPECT_EQ(stall->worker, 0);
  EXPECT_EQ(stall->phase, "checkpoint");
}

TEST(Watchdog, FinishedWorkersAreNotWatched) {
  Watchdog dog(1, 5.0, 0.0);
  dog.finished(0);
  EXPECT_FALSE(dog.check(60.0).has_value());
}

TEST(Watchdog, TeacherRanksAreNamedByTheirOwnNames) {
  // Two workers, then one teacher rank (world rank 3) watched as member 2.
  Watchdog dog(3, 10.0, 0.0);
  dog.setName(2, "teacher rank 3 (teacher 'big')");
  dog.progress(0, 4, "teachers", 20.0);  // workers waiting for it still report
  dog.progress(1, 4, "teachers", 20.0);
  dog.progress(2, 5, "teacher", 8.0);
  const auto stall = dog.check(21.0);
  ASSERT_TRUE(stall.has_value());
  EXPECT_EQ(stall->describe(), "teacher rank 3 (teacher 'big') silent for 13.0 s, last seen at step 5 in phase teacher");
}

}  // namespace
}  // namespace distill::coordinator
