#include "coordinator/data_schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/error.h"

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

TEST(DataSchedule, PositionOfAFreshJobIsStepOverStepsPerEpoch) {
  DataSchedule plan({60, 40}, 3, 2, 4);  // 100 samples, global batch 8 -> 12 steps, 4 dropped
  EXPECT_EQ(plan.position(0), (LedgerPosition{0, 0, 0}));
  EXPECT_EQ(plan.position(5), (LedgerPosition{5, 0, 40}));
  EXPECT_EQ(plan.position(11), (LedgerPosition{11, 0, 88}));
  EXPECT_EQ(plan.position(12), (LedgerPosition{12, 1, 0}));
  EXPECT_EQ(plan.position(30), (LedgerPosition{30, 2, 48}));
  EXPECT_EQ(plan.stepsForEpochs(3), 36u);
}

// 100 samples; 2 workers x 4 (global batch 8, 12 steps an epoch) for 4 steps,
// then 3 workers x 4 (global batch 12) from sample 32 of epoch 0: 68 left, 5
// steps take 60 and drop 8; epoch 1 has 8 steps of 12 and drops 4.
TEST(DataSchedule, ASegmentOnThreeWorkersContinuesWhereTwoWorkersStopped) {
  const std::vector<uint64_t> shards{40, 30, 30};
  DataSchedule two(shards, 9, 2, 4);
  const LedgerPosition stop = two.position(4);
  EXPECT_EQ(stop, (LedgerPosition{4, 0, 32}));
  DataSchedule three(shards, 9, 3, 4, stop);
  EXPECT_EQ(three.start(), stop);
  EXPECT_EQ(three.stepsPerEpoch(), 8u);
  EXPECT_EQ(three.stepsForEpochs(1), 4u + 5u);
  EXPECT_EQ(three.stepsForEpochs(2), 4u + 5u + 8u);
  EXPECT_EQ(three.stepsForEpochs(3), 4u + 5u + 8u + 8u);
  EXPECT_EQ(three.position(8), (LedgerPosition{8, 0, 32 + 4 * 12}));
  EXPECT_EQ(three.position(9), (LedgerPosition{9, 1, 0}));
  EXPECT_EQ(three.position(12), (LedgerPosition{12, 1, 36}));
  EXPECT_EQ(three.position(17), (LedgerPosition{17, 2, 0}));
  EXPECT_EQ(three.epochOf(8), 0u);
  EXPECT_EQ(three.epochOf(9), 1u);

  // Per epoch, the samples in step and worker order are a prefix of the
  // epoch's order: no sample twice, none skipped but the dropped remainder.
  std::vector<std::vector<uint64_t>> seen(2);
  for (uint64_t step = 0; step < 4; ++step)
    for (int w = 0; w < 2; ++w) {
      const auto ids = two.samples(step, w);
      seen[0].insert(seen[0].end(), ids.begin(), ids.end());
    }
  for (uint64_t step = 4; step < three.stepsForEpochs(2); ++step)
    for (int w = 0; w < 3; ++w) {
      const auto ids = three.samples(step, w);
      seen[three.epochOf(step)].insert(seen[three.epochOf(step)].end(), ids.begin(), ids.end());
    }
  const auto order0 = two.epochOrder(0), order1 = two.epochOrder(1);
  ASSERT_EQ(seen[0].size(), 92u);  // 4 x 8 + 5 x 12; the last 8 of the order are dropped
  ASSERT_EQ(seen[1].size(), 96u);  // 8 x 12; the last 4 are dropped
  EXPECT_EQ(seen[0], std::vector<uint64_t>(order0.begin(), order0.begin() + 92));
  EXPECT_EQ(seen[1], std::vector<uint64_t>(order1.begin(), order1.begin() + 96));
  EXPECT_EQ(std::set<uint64_t>(seen[0].begin(), seen[0].end()).size(), 92u);
}

TEST(DataSchedule, ResumeOnTheSameWorkerCountIsTheUninterruptedSchedule) {
  const std::vector<uint64_t> shards{21, 17, 30};  // 68 samples, global batch 10: 6 steps, 8 dropped
  DataSchedule straight(shards, 4, 2, 5);
  for (uint64_t k = 0; k <= 3 * straight.stepsPerEpoch(); ++k) {
    DataSchedule resumed(shards, 4, 2, 5, straight.position(k));
    EXPECT_EQ(resumed.stepsForEpochs(3), straight.stepsForEpochs(3)) << "resumed at " << k;
    for (uint64_t step = k; step < k + 2 * straight.stepsPerEpoch(); ++step) {
      ASSERT_EQ(resumed.position(step), straight.position(step)) << "resumed at " << k << ", step " << step;
      for (int w = 0; w < 2; ++w) ASSERT_EQ(resumed.samples(step, w), straight.samples(step, w)) << step;
    }
  }
}

TEST(DataSchedule, LessThanAGlobalBatchLeftStartsTheNextEpoch) {
  // 100 samples, global batch 12: from sample 95 of epoch 0 only 5 are left.
  DataSchedule plan({100}, 2, 3, 4, LedgerPosition{7, 0, 95});
  EXPECT_EQ(plan.start(), (LedgerPosition{7, 1, 0}));
  EXPECT_EQ(plan.stepsForEpochs(1), 7u);  // epoch 0 is already done
  EXPECT_EQ(plan.stepsForEpochs(2), 7u + 8u);
  const auto order = plan.epochOrder(1);
  EXPECT_EQ(plan.samples(7, 0), std::vector<uint64_t>(order.begin(), order.begin() + 4));
}

// Data selection: 100 samples, 2 workers x 4 (global batch 8): epoch 0 is 12
// steps (4 dropped), every later epoch 24 selected samples, 3 steps.
std::vector<uint64_t> everyFourth(uint64_t first, uint64_t count) {
  std::vector<uint64_t> ids;
  for (uint64_t i = 0; i < count; ++i) ids.push_back(first + 4 * i);
  return ids;
}

TEST(DataSchedule, SubsetEpochsHaveTheKeptSizeAndWaitForTheirSelection) {
  DataSchedule plan({40, 30, 30}, 9, 2, 4, {}, SubsetEpochs{24, {}});
  EXPECT_TRUE(plan.selecting());
  EXPECT_EQ(plan.stepsPerEpoch(), 12u);  // epoch 0's
  EXPECT_EQ(plan.epochSize(0), 100u);
  EXPECT_EQ(plan.epochSize(1), 24u);
  EXPECT_EQ(plan.stepsForEpochs(1), 12u);
  EXPECT_EQ(plan.stepsForEpochs(2), 15u);
  EXPECT_EQ(plan.stepsForEpochs(3), 18u);
  EXPECT_EQ(plan.position(11), (LedgerPosition{11, 0, 88}));
  EXPECT_EQ(plan.position(12), (LedgerPosition{12, 1, 0}));
  EXPECT_EQ(plan.position(14), (LedgerPosition{14, 1, 16}));
  EXPECT_EQ(plan.position(15), (LedgerPosition{15, 2, 0}));
  EXPECT_EQ(plan.position(19), (LedgerPosition{19, 3, 8}));

  EXPECT_EQ(plan.nextUnselectedEpoch(), 1u);
  EXPECT_EQ(plan.selectionHorizon(), 12u);
  EXPECT_TRUE(plan.hasSamples(0));
  EXPECT_FALSE(plan.hasSamples(1));
  EXPECT_THROW(plan.samples(12, 0), std::logic_error);  // not selected yet: a coordinator bug

  const std::vector<uint64_t> ids = everyFourth(1, 24);  // 1, 5, ..., 93
  plan.setEpochSamples(1, ids);
  EXPECT_TRUE(plan.hasSamples(1));
  EXPECT_EQ(plan.nextUnselectedEpoch(), 2u);
  EXPECT_EQ(plan.selectionHorizon(), 15u);
  EXPECT_EQ(plan.epochSamples(1), ids);

  // Epoch 1 over every step and worker: the selected samples, each once, in
  // the subset's shuffled order.
  std::vector<uint64_t> seen;
  for (uint64_t step = 12; step < 15; ++step)
    for (int w = 0; w < 2; ++w) {
      const auto part = plan.samples(step, w);
      seen.insert(seen.end(), part.begin(), part.end());
    }
  EXPECT_EQ(seen, plan.epochOrder(1));
  EXPECT_NE(seen, ids);  // shuffled
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, ids);

  // The order is a function of (seed, epoch, subset): another schedule agrees.
  DataSchedule again({40, 30, 30}, 9, 1, 8, {}, SubsetEpochs{24, {}});
  again.setEpochSamples(1, ids);
  EXPECT_EQ(again.epochOrder(1), plan.epochOrder(1));
  EXPECT_THROW(plan.setEpochSamples(3, ids), std::logic_error);  // epoch 2 comes first
  plan.forgetEpochsBefore(2);
  EXPECT_THROW(plan.epochSamples(1), std::logic_error);
}

TEST(DataSchedule, ResumeOnTheSameWorkerCountWithSubsetsIsTheUninterruptedSchedule) {
  const std::vector<uint64_t> shards{40, 30, 30};
  const std::vector<std::vector<uint64_t>> subsets{{}, everyFourth(0, 24), everyFourth(2, 24), everyFourth(3, 24)};
  DataSchedule straight(shards, 9, 2, 4, {}, SubsetEpochs{24, {}});
  for (uint64_t e = 1; e <= 3; ++e) straight.setEpochSamples(e, subsets[e]);
  for (uint64_t k = 0; k < straight.stepsForEpochs(4); ++k) {
    const LedgerPosition at = straight.position(k);
    DataSchedule resumed(shards, 9, 2, 4, at, SubsetEpochs{24, subsets[at.epoch]});
    for (uint64_t e = resumed.nextUnselectedEpoch(); e <= 3; ++e) resumed.setEpochSamples(e, subsets[e]);
    EXPECT_EQ(resumed.stepsForEpochs(4), straight.stepsForEpochs(4)) << "resumed at " << k;
    for (uint64_t step = k; step < straight.stepsForEpochs(4); ++step) {
      ASSERT_EQ(resumed.position(step), straight.position(step)) << "resumed at " << k << ", step " << step;
      for (int w = 0; w < 2; ++w) ASSERT_EQ(resumed.samples(step, w), straight.samples(step, w)) << step;
    }
  }
}

// 2 workers stop at step 13 (sample 8 of epoch 1's 24); 3 workers (global
// batch 12) finish the 16 left in 1 step, 4 dropped, then 2 steps an epoch.
TEST(DataSchedule, ASubsetEpochContinuesItsRecordedSubsetOnThreeWorkers) {
  const std::vector<uint64_t> shards{40, 30, 30};
  const std::vector<uint64_t> ids = everyFourth(1, 24);
  DataSchedule two(shards, 9, 2, 4, {}, SubsetEpochs{24, {}});
  two.setEpochSamples(1, ids);
  const LedgerPosition stop = two.position(13);
  ASSERT_EQ(stop, (LedgerPosition{13, 1, 8}));
  DataSchedule three(shards, 9, 3, 4, stop, SubsetEpochs{24, ids});
  EXPECT_EQ(three.start(), stop);
  EXPECT_EQ(three.epochSize(1), 24u);
  EXPECT_TRUE(three.hasSamples(1));
  EXPECT_EQ(three.nextUnselectedEpoch(), 2u);
  EXPECT_EQ(three.stepsForEpochs(2), 14u);
  EXPECT_EQ(three.stepsForEpochs(3), 16u);
  EXPECT_EQ(three.selectionHorizon(), 14u);
  EXPECT_EQ(three.position(14), (LedgerPosition{14, 2, 0}));
  const auto order = two.epochOrder(1);
  std::vector<uint64_t> step13;
  for (int w = 0; w < 3; ++w) {
    const auto part = three.samples(13, w);
    step13.insert(step13.end(), part.begin(), part.end());
  }
  EXPECT_EQ(step13, std::vector<uint64_t>(order.begin() + 8, order.begin() + 20));

  // One step later only 8 of the subset are left: less than a global batch of
  // 12, so the segment starts at epoch 2, which is still to be selected.
  DataSchedule late(shards, 9, 3, 4, two.position(14), SubsetEpochs{24, ids});
  EXPECT_EQ(late.start(), (LedgerPosition{14, 2, 0}));
  EXPECT_EQ(late.nextUnselectedEpoch(), 2u);
  EXPECT_EQ(late.selectionHorizon(), 14u);
  EXPECT_FALSE(late.hasSamples(2));
  EXPECT_EQ(late.stepsForEpochs(3), 16u);
}

TEST(DataSchedule, AResumeInsideASubsetEpochNeedsItsSubset) {
  try {
    DataSchedule plan({40, 30, 30}, 9, 2, 4, LedgerPosition{13, 1, 8}, SubsetEpochs{24, {}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("selection is not recorded"), std::string::npos) << e.what();
  }
  try {
    DataSchedule plan({40, 30, 30}, 9, 2, 4, LedgerPosition{13, 1, 32}, SubsetEpochs{24, everyFourth(0, 24)});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sample 32 of epoch 1, past the 24 selected samples"), std::string::npos)
        << e.what();
  }
  try {
    DataSchedule plan({40, 30, 30}, 9, 2, 4, LedgerPosition{13, 1, 8}, SubsetEpochs{24, {4, 9, 9, 12}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not increasing sample ids below 100 (at position 2: 9)"), std::string::npos)
        << e.what();
  }
}

TEST(DataSchedule, AnOffsetPastTheEpochIsAnError) {
  try {
    DataSchedule plan({10, 10}, 1, 1, 2, LedgerPosition{3, 0, 21});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sample 21"), std::string::npos) << e.what();
  }
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
