#include "coordinator/data_schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace distill::coordinator {
namespace {

TEST(DataSchedule, EpochOrderIsAPermutationOfAllSamples) {
  DataSchedule plan({5, 7, 3}, 11, 1, 3);
  auto order = plan.epochOrder(0);
  std::sort(order.begin(), order.end());
  std::vector<uint64_t> expected(15);
  for (uint64_t i = 0; i < 15; ++i) expected[i] = i;
  EXPECT_EQ(order, expected);
}

TEST(DataSchedule, ShardsStayContiguousWithinAnEpoch) {
  // Samples of one shard come together, so a worker reads one mmapped shard at a time.
  DataSchedule plan({4, 4, 4}, 3, 1, 2);
  const auto order = plan.epochOrder(2);
  for (size_t block = 0; block < 3; ++block) {
    const uint64_t shard = order[block * 4] / 4;
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(order[block * 4 + i] / 4, shard);
  }
}

TEST(DataSchedule, DeterministicPerSeedAndEpochAndDifferentAcrossEpochs) {
  DataSchedule a({50, 50}, 7, 2, 4), b({50, 50}, 7, 2, 4), c({50, 50}, 8, 2, 4);
  EXPECT_EQ(a.epochOrder(0), b.epochOrder(0));
  EXPECT_NE(a.epochOrder(0), a.epochOrder(1));
  EXPECT_NE(a.epochOrder(0), c.epochOrder(0));
}

TEST(DataSchedule, TwoWorkersSplitTheGlobalBatchOfOneWorkerWithDoubleBatch) {
  DataSchedule two({40, 24}, 5, 2, 4);
  DataSchedule one({40, 24}, 5, 1, 8);
  ASSERT_EQ(two.stepsPerEpoch(), one.stepsPerEpoch());
  for (uint64_t step = 0; step < 3 * one.stepsPerEpoch(); ++step) {
    auto joined = two.samples(step, 0);
    const auto second = two.samples(step, 1);
    joined.insert(joined.end(), second.begin(), second.end());
    EXPECT_EQ(joined, one.samples(step, 0)) << "step " << step;
  }
}

TEST(DataSchedule, DropsThePartialLastBatchAndCoversEachSampleOncePerEpoch) {
  DataSchedule plan({10, 11}, 1, 2, 5);  // 21 samples, global batch 10 -> 2 steps
  EXPECT_EQ(plan.stepsPerEpoch(), 2u);
  std::set<uint64_t> seen;
  for (uint64_t step = 0; step < 2; ++step)
    for (int w = 0; w < 2; ++w)
      for (uint64_t id : plan.samples(step, w)) EXPECT_TRUE(seen.insert(id).second) << id;
  EXPECT_EQ(seen.size(), 20u);
  EXPECT_EQ(plan.epochOf(2), 1u);
}

TEST(DataSchedule, FewerSamplesThanOneGlobalBatchIsAnError) {
  try {
    DataSchedule plan({3}, 1, 2, 2);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("training.batch_size"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace distill::coordinator
