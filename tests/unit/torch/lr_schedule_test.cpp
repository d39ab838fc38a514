// Learning-rate schedule: warm-up, then constant / linear / cosine decay.
#include <cmath>

#include <gtest/gtest.h>

#include "common/error.h"
#include "trainer/optim/lr_schedule.h"

namespace distill::optim {
namespace {

config::OptimizerSpec spec(const std::string& decay, uint32_t warmup) {
  config::OptimizerSpec s;
  s.set_lr(2.0);
  s.set_warmup_steps(warmup);
  s.set_decay(decay);
  s.set_min_lr_ratio(0.1);
  return s;
}

TEST(LearningRateSchedule, WarmUpIsLinearFromZero) {
  const LearningRateSchedule lr(spec("linear", 10), 110);
  EXPECT_DOUBLE_EQ(lr.at(0), 0.0);
  EXPECT_DOUBLE_EQ(lr.at(5), 1.0);   // 2 * 5/10
  EXPECT_DOUBLE_EQ(lr.at(10), 2.0);  // end of warm-up, start of decay
}

TEST(LearningRateSchedule, LinearDecay) {
  // W = 10, N = 110, r = 0.1: step 60 -> p = 50/100 = 0.5 -> 2 * (0.1 + 0.9 * 0.5) = 1.1
  const LearningRateSchedule lr(spec("linear", 10), 110);
  EXPECT_NEAR(lr.at(60), 1.1, 1e-12);
  EXPECT_NEAR(lr.at(110), 0.2, 1e-12);  // min_lr_ratio * lr at the last step
  EXPECT_NEAR(lr.at(500), 0.2, 1e-12);
}

TEST(LearningRateSchedule, CosineDecay) {
  // step 35 -> p = 0.25 -> (1 + cos(pi/4))/2 = 0.853553 -> 2 * (0.1 + 0.9 * 0.853553) = 1.736396
  const LearningRateSchedule lr(spec("cosine", 10), 110);
  EXPECT_NEAR(lr.at(35), 2.0 * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI / 4))), 1e-12);
  EXPECT_NEAR(lr.at(35), 1.736396, 1e-6);
  EXPECT_NEAR(lr.at(60), 1.1, 1e-12);  // p = 0.5: cos = 0 -> 2 * (0.1 + 0.45)
  EXPECT_NEAR(lr.at(110), 0.2, 1e-12);
}

TEST(LearningRateSchedule, ConstantAfterWarmUp) {
  const LearningRateSchedule lr(spec("constant", 0), 100);
  EXPECT_DOUBLE_EQ(lr.at(0), 2.0);  // no warm-up: full lr from the first step
  EXPECT_DOUBLE_EQ(lr.at(99), 2.0);
  EXPECT_DOUBLE_EQ(lr.at(1000), 2.0);
}

TEST(LearningRateSchedule, RejectsBadConfig) {
  EXPECT_THROW(LearningRateSchedule(spec("exponential", 0), 100), Error);
  config::OptimizerSpec ratio = spec("linear", 0);
  ratio.set_min_lr_ratio(1.5);
  EXPECT_THROW(LearningRateSchedule(ratio, 100), Error);
}

}  // namespace
}  // namespace distill::optim
