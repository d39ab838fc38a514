// Sparsity schedules (one-shot, constant, iterative, cubic, reverse-cubic) against hand-computed values.
#include <gtest/gtest.h>

#include "common/error.h"
#include "trainer/sparsity/schedule.h"

namespace distill::sparsity {
namespace {

config::SparsitySpec spec(const std::string& schedule, double initial, double final_sparsity, uint32_t warmup,
                          uint32_t cooldown, uint32_t interval) {
  config::SparsitySpec s;
  s.set_schedule(schedule);
  s.set_initial_sparsity(initial);
  s.set_final_sparsity(final_sparsity);
  s.set_warmup_steps(warmup);
  s.set_cooldown_steps(cooldown);
  s.set_interval(interval);
  return s;
}

TEST(CubicSchedule, TargetsAtBeginMiddleEndAndAfter) {
  // total 110, warm-up 10, cool-down 10 -> begin 10, end 100, span 90; s_i = 0, s_f = 0.8
  const auto schedule = makeSchedule(spec("cubic", 0.0, 0.8, 10, 10, 10), 110);
  EXPECT_EQ(schedule->name(), "cubic");
  EXPECT_DOUBLE_EQ(schedule->target(0), 0.0);
  EXPECT_DOUBLE_EQ(schedule->target(9), 0.0);
  EXPECT_DOUBLE_EQ(schedule->target(10), 0.0);  // 0.8 + (0 - 0.8) * (1 - 0)^3
  // step 40: (40-10)/90 = 1/3 -> 0.8 - 0.8 * (2/3)^3 = 0.8 * 19/27 = 0.562963
  EXPECT_NEAR(schedule->target(40), 0.8 * 19.0 / 27.0, 1e-12);
  // step 55: halfway -> 0.8 - 0.8 * (1/2)^3 = 0.7
  EXPECT_NEAR(schedule->target(55), 0.7, 1e-12);
  EXPECT_DOUBLE_EQ(schedule->target(100), 0.8);
  EXPECT_DOUBLE_EQ(schedule->target(150), 0.8);
}

TEST(CubicSchedule, StartsFromInitialSparsity) {
  // s_i = 0.2, s_f = 0.8, begin 0, end 100: step 50 -> 0.8 + (0.2 - 0.8) * (1/2)^3 = 0.725
  const auto schedule = makeSchedule(spec("cubic", 0.2, 0.8, 0, 0, 10), 100);
  EXPECT_DOUBLE_EQ(schedule->target(0), 0.2);
  EXPECT_NEAR(schedule->target(50), 0.725, 1e-12);
}

TEST(CubicSchedule, UpdateStepsFromBeginEveryIntervalAndAtEnd) {
  const auto schedule = makeSchedule(spec("cubic", 0.0, 0.8, 10, 10, 10), 110);
  EXPECT_FALSE(schedule->isUpdateStep(0));
  EXPECT_FALSE(schedule->isUpdateStep(9));
  EXPECT_TRUE(schedule->isUpdateStep(10));
  EXPECT_FALSE(schedule->isUpdateStep(15));
  EXPECT_TRUE(schedule->isUpdateStep(20));
  EXPECT_TRUE(schedule->isUpdateStep(100));
  EXPECT_FALSE(schedule->isUpdateStep(110));  // after end: masks stay
  // interval 7 from 10: 10, 17, ..., 94, then 100 = end although (100 - 10) % 7 = 6
  const auto odd = makeSchedule(spec("cubic", 0.0, 0.8, 10, 10, 7), 110);
  EXPECT_TRUE(odd->isUpdateStep(94));
  EXPECT_FALSE(odd->isUpdateStep(99));
  EXPECT_TRUE(odd->isUpdateStep(100));
  EXPECT_FALSE(odd->isUpdateStep(101));
}

TEST(CubicSchedule, RejectsImpossibleConfigs) {
  EXPECT_THROW(makeSchedule(spec("cubic", 0.0, 0.8, 60, 60, 10), 100), Error);  // end 40 < begin 60
  EXPECT_THROW(makeSchedule(spec("cubic", 0.0, 0.8, 0, 0, 0), 100), Error);     // interval 0
  EXPECT_THROW(makeSchedule(spec("cubic", 0.0, 1.5, 0, 0, 10), 100), Error);    // final > 1
  EXPECT_THROW(makeSchedule(spec("cubic", -0.1, 0.5, 0, 0, 10), 100), Error);   // initial < 0
}

TEST(ConstantSchedule, PrunesAtStartAndEveryInterval) {
  const auto schedule = makeSchedule(spec("constant", 0.0, 0.5, 0, 0, 100), 1000);
  EXPECT_EQ(schedule->name(), "constant");
  EXPECT_DOUBLE_EQ(schedule->target(0), 0.5);
  EXPECT_DOUBLE_EQ(schedule->target(999), 0.5);
  EXPECT_TRUE(schedule->isUpdateStep(0));
  EXPECT_FALSE(schedule->isUpdateStep(1));
  EXPECT_FALSE(schedule->isUpdateStep(99));
  EXPECT_TRUE(schedule->isUpdateStep(100));
  EXPECT_TRUE(schedule->isUpdateStep(200));
}

TEST(ConstantSchedule, StartsAfterWarmup) {
  const auto schedule = makeSchedule(spec("constant", 0.0, 0.5, 5, 0, 10), 100);
  EXPECT_DOUBLE_EQ(schedule->target(4), 0.0);
  EXPECT_DOUBLE_EQ(schedule->target(5), 0.5);
  EXPECT_FALSE(schedule->isUpdateStep(0));
  EXPECT_TRUE(schedule->isUpdateStep(5));
  EXPECT_FALSE(schedule->isUpdateStep(10));
  EXPECT_TRUE(schedule->isUpdateStep(15));
}

TEST(OneShotSchedule, PrunesOnceAtWarmup) {
  const auto schedule = makeSchedule(spec("one_shot", 0.0, 0.5, 20, 0, 10), 100);
  EXPECT_EQ(schedule->name(), "one_shot");
  EXPECT_DOUBLE_EQ(schedule->target(19), 0.0);
  EXPECT_DOUBLE_EQ(schedule->target(20), 0.5);
  EXPECT_DOUBLE_EQ(schedule->target(99), 0.5);
  int updates = 0;
  for (int64_t t = 0; t <= 100; ++t) updates += schedule->isUpdateStep(t);
  EXPECT_EQ(updates, 1);
  EXPECT_TRUE(schedule->isUpdateStep(20));
  EXPECT_TRUE(makeSchedule(spec("one_shot", 0.0, 0.5, 0, 0, 10), 100)->isUpdateStep(0));
}

TEST(IterativeSchedule, PrunesAFixedFractionOfWhatRemains) {
  config::SparsitySpec s = spec("iterative", 0.0, 0.6, 10, 0, 5);
  s.set_iterative_fraction(0.25);
  const auto schedule = makeSchedule(s, 100);
  // 1 - 0.75 = 0.25, 1 - 0.75^2 = 0.4375, 1 - 0.75^3 = 0.578125, then capped at 0.6 (4th update).
  EXPECT_DOUBLE_EQ(schedule->target(9), 0.0);
  EXPECT_DOUBLE_EQ(schedule->target(10), 0.25);
  EXPECT_DOUBLE_EQ(schedule->target(14), 0.25);
  EXPECT_DOUBLE_EQ(schedule->target(15), 0.4375);
  EXPECT_DOUBLE_EQ(schedule->target(20), 0.578125);
  EXPECT_DOUBLE_EQ(schedule->target(25), 0.6);
  EXPECT_DOUBLE_EQ(schedule->target(90), 0.6);
  EXPECT_TRUE(schedule->isUpdateStep(10));
  EXPECT_FALSE(schedule->isUpdateStep(12));
  EXPECT_TRUE(schedule->isUpdateStep(25));
  EXPECT_FALSE(schedule->isUpdateStep(30));  // final reached: no more updates
  s.set_iterative_fraction(1.0);
  EXPECT_THROW(makeSchedule(s, 100), Error);
}

TEST(ReverseCubicSchedule, SlowFirstFastLast) {
  const auto schedule = makeSchedule(spec("reverse_cubic", 0.0, 0.8, 10, 10, 10), 110);
  // begin 10, end 100: s(t) = 0.8 * ((t - 10) / 90)^3
  EXPECT_EQ(schedule->name(), "reverse_cubic");
  EXPECT_DOUBLE_EQ(schedule->target(10), 0.0);
  EXPECT_NEAR(schedule->target(40), 0.8 / 27.0, 1e-12);
  EXPECT_NEAR(schedule->target(70), 0.8 * 8.0 / 27.0, 1e-12);
  EXPECT_DOUBLE_EQ(schedule->target(100), 0.8);
  const auto cubic = makeSchedule(spec("cubic", 0.0, 0.8, 10, 10, 10), 110);
  EXPECT_NEAR(schedule->target(40) + cubic->target(70), 0.8, 1e-12);  // mirror images
  EXPECT_TRUE(schedule->isUpdateStep(100));
  EXPECT_FALSE(schedule->isUpdateStep(15));
  EXPECT_THROW(makeSchedule(spec("reverse_cubic", 0.0, 0.8, 60, 60, 10), 100), Error);
}

TEST(SparsitySchedule, FixedNeverUpdatesAndTargetsTheLoadedSparsity) {
  const auto fixed = makeSchedule(spec("fixed", 0, 0.375, 0, 0, 1), 10);
  for (int64_t t = 0; t <= 10; ++t) {
    EXPECT_FALSE(fixed->isUpdateStep(t)) << t;
    EXPECT_EQ(fixed->target(t), 0.375) << t;
  }
}

TEST(SparsitySchedule, RegistryListsAndRejectsNames) {
  EXPECT_EQ(scheduleNames(),
            (std::vector<std::string>{"one_shot", "constant", "iterative", "cubic", "reverse_cubic", "fixed"}));
  try {
    makeSchedule(spec("one_shot_typo", 0, 0.5, 0, 0, 1), 10);
    FAIL() << "unknown schedule accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sparsity.schedule"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace distill::sparsity
