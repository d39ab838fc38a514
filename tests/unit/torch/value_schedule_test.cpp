// Temperature and kd_weight schedules at known steps.
#include <gtest/gtest.h>

#include "common/error.h"
#include "trainer/distill/value_schedule.h"

namespace distill::kd {
namespace {

config::ValueSchedule schedule(const std::string& shape, double end) {
  config::ValueSchedule s;
  s.set_shape(shape);
  s.set_end(end);
  return s;
}

TEST(ValueSchedule, LinearFromStartAtStepZeroToEndAtTheLastStep) {
  // 4 steps, 4 -> 1: p = step / 3
  const auto s = schedule("linear", 1.0);
  EXPECT_DOUBLE_EQ(scheduledValue(s, 4.0, 0, 4), 4.0);
  EXPECT_DOUBLE_EQ(scheduledValue(s, 4.0, 1, 4), 3.0);
  EXPECT_DOUBLE_EQ(scheduledValue(s, 4.0, 2, 4), 2.0);
  EXPECT_DOUBLE_EQ(scheduledValue(s, 4.0, 3, 4), 1.0);
  EXPECT_DOUBLE_EQ(scheduledValue(s, 4.0, 10, 4), 1.0);  // past the end: clamped
}

TEST(ValueSchedule, CosineAndConstant) {
  // 3 steps, 1 -> 0: p = 0, 1/2, 1 -> 1, (1 + cos(pi/2)) / 2 = 0.5, 0
  const auto s = schedule("cosine", 0.0);
  EXPECT_DOUBLE_EQ(scheduledValue(s, 1.0, 0, 3), 1.0);
  EXPECT_NEAR(scheduledValue(s, 1.0, 1, 3), 0.5, 1e-12);
  EXPECT_NEAR(scheduledValue(s, 1.0, 2, 3), 0.0, 1e-12);
  EXPECT_DOUBLE_EQ(scheduledValue(schedule("constant", 7.0), 2.0, 5, 10), 2.0);  // end ignored
  EXPECT_DOUBLE_EQ(scheduledValue(schedule("linear", 0.0), 2.0, 0, 1), 2.0);     // one step: the start
  EXPECT_THROW(scheduledValue(schedule("step", 0.0), 2.0, 0, 10), Error);
}

}  // namespace
}  // namespace distill::kd
