// DataSelection: the ranking against hand-ordered scores, the rounding of the
// kept count, and what a checkpoint records while workers run ahead of it.
#include "coordinator/data_selection.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "common/error.h"

namespace distill::coordinator {
namespace {

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DataSelection, KeepsTheHighestEntropiesNeverScoredFirstTiesToTheLowerId) {
  // 8 samples; 5 and 7 never scored. Ranked: 5 (inf), 7 (inf), 2 (0.9),
  // 0 (0.7), 4 (0.7), 6 (0.7), 1 (0.3), 3 (0.1).
  DataSelection s(8);
  s.record(0, {0, 1, 2, 3}, {0.7f, 0.3f, 0.9f, 0.1f});
  s.record(1, {4, 6}, {0.7f, 0.7f});
  const SelectedSamples two = s.select(2, 2);
  EXPECT_EQ(two.samples, (std::vector<uint64_t>{5, 7}));
  EXPECT_TRUE(std::isinf(two.min_entropy));
  EXPECT_EQ(two.never_scored, 2u);
  const SelectedSamples four = s.select(4, 2);
  EXPECT_EQ(four.samples, (std::vector<uint64_t>{0, 2, 5, 7}));  // 0 wins the 0.7 tie against 4 and 6
  EXPECT_FLOAT_EQ(four.min_entropy, 0.7f);
  EXPECT_EQ(four.never_scored, 2u);
  EXPECT_EQ(s.select(5, 2).samples, (std::vector<uint64_t>{0, 2, 4, 5, 7}));
  EXPECT_EQ(s.select(7, 2).samples, (std::vector<uint64_t>{0, 1, 2, 4, 5, 6, 7}));
  EXPECT_EQ(s.select(8, 2).samples.size(), 8u);
}

TEST(DataSelection, RanksEachSampleByItsNewestScoreBeforeTheEpoch) {
  DataSelection s(4);
  s.record(0, {0, 1}, {0.1f, 0.5f});
  s.record(1, {2, 3}, {0.2f, 0.4f});
  s.record(3, {0}, {0.9f});  // sample 0 again, in a later epoch: now the most uncertain
  EXPECT_EQ(s.select(1, 4).samples, (std::vector<uint64_t>{0}));
  EXPECT_EQ(s.select(1, 3).samples, (std::vector<uint64_t>{1}));  // before step 3, 0 stood at 0.1
  EXPECT_EQ(s.select(2, 1).samples, (std::vector<uint64_t>{2, 3}));  // before step 1, 2 and 3 unseen
}

TEST(DataSelection, ArrivalOrderAcrossWorkersDoesNotMatter) {
  DataSelection a(6), b(6);
  a.record(0, {0, 1, 2}, {0.5f, 0.2f, 0.4f});
  a.record(0, {3, 4, 5}, {0.1f, 0.6f, 0.3f});
  a.record(1, {1}, {0.8f});
  b.record(1, {1}, {0.8f});
  b.record(0, {3, 4, 5}, {0.1f, 0.6f, 0.3f});
  b.record(0, {0, 1, 2}, {0.5f, 0.2f, 0.4f});
  for (uint64_t k = 1; k <= 6; ++k) EXPECT_EQ(a.select(k, 2).samples, b.select(k, 2).samples) << k;
  EXPECT_EQ(a.select(2, 2).samples, (std::vector<uint64_t>{1, 4}));
}

TEST(DataSelection, KeptPerEpochIsWholeGlobalBatches) {
  EXPECT_EQ(DataSelection::keptPerEpoch(0.3, 100, 10), 30u);   // 0.3 x 100 is a hair off 30 in doubles
  EXPECT_EQ(DataSelection::keptPerEpoch(0.3, 100, 8), 24u);    // 30 -> 3 batches of 8
  EXPECT_EQ(DataSelection::keptPerEpoch(0.7, 100, 10), 70u);
  EXPECT_EQ(DataSelection::keptPerEpoch(0.1, 1000, 32), 96u);  // 100 -> 3 batches of 32
  EXPECT_EQ(DataSelection::keptPerEpoch(1.0, 100, 8), 96u);    // every whole batch
  EXPECT_EQ(DataSelection::keptPerEpoch(0.08, 100, 8), 8u);
  const std::string e = errorOf([] { DataSelection::keptPerEpoch(0.05, 100, 8); });
  EXPECT_NE(e.find("training.data_selection.fraction"), std::string::npos) << e;
  EXPECT_NE(e.find("100 samples"), std::string::npos) << e;
  EXPECT_NE(e.find("one global batch (8 samples"), std::string::npos) << e;
  EXPECT_NE(e.find("at least 0.08"), std::string::npos) << e;
}

TEST(DataSelection, BadScoresNameTheStep) {
  DataSelection s(10);
  const std::string sizes = errorOf([&] { s.record(7, {1, 2}, {0.5f}); });
  EXPECT_NE(sizes.find("step 7"), std::string::npos) << sizes;
  EXPECT_NE(sizes.find("2 samples but 1 entropies"), std::string::npos) << sizes;
  const std::string range = errorOf([&] { s.record(8, {3, 10}, {0.5f, 0.5f}); });
  EXPECT_NE(range.find("step 8"), std::string::npos) << range;
  EXPECT_NE(range.find("sample 10 is out of range"), std::string::npos) << range;
  const std::string nan =
      errorOf([&] { s.record(9, {4}, {std::numeric_limits<float>::quiet_NaN()}); });
  EXPECT_NE(nan.find("step 9"), std::string::npos) << nan;
  EXPECT_NE(nan.find("not finite"), std::string::npos) << nan;
}

TEST(DataSelection, ScoresAtAStepLeaveOutLaterStepsAndSurvivePruning) {
  DataSelection s(3);
  s.record(0, {0, 1}, {0.1f, 0.2f});
  s.record(2, {0}, {0.3f});
  s.record(4, {0, 2}, {0.5f, 0.6f});
  const ScoreTable at3 = s.scoresAt(3);
  EXPECT_EQ(at3.samples, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(at3.steps, (std::vector<uint64_t>{2, 0}));
  EXPECT_EQ(at3.entropy, (std::vector<float>{0.3f, 0.2f}));
  EXPECT_EQ(s.scoresAt(0).samples.size(), 0u);
  const ScoreTable at5 = s.scoresAt(5);
  EXPECT_EQ(at5.samples, (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(at5.entropy, (std::vector<float>{0.5f, 0.2f, 0.6f}));

  // A commit of step 3 drops sample 0's step-0 score: older than its newest
  // before 3. What checkpoints of step 3 and later record is unchanged.
  EXPECT_EQ(s.entries(), 5u);
  s.prune(3);
  EXPECT_EQ(s.entries(), 4u);
  EXPECT_EQ(s.scoresAt(3).entropy, at3.entropy);
  EXPECT_EQ(s.scoresAt(5).entropy, at5.entropy);
  EXPECT_EQ(s.scoresAt(4).steps, (std::vector<uint64_t>{2, 0}));
  s.prune(5);
  EXPECT_EQ(s.entries(), 3u);
  EXPECT_EQ(s.scoresAt(5).steps, (std::vector<uint64_t>{4, 0, 4}));
}

TEST(DataSelection, RestoredScoresSelectTheSame) {
  DataSelection s(5);
  s.record(0, {0, 1, 2, 3, 4}, {0.5f, 0.1f, 0.4f, 0.9f, 0.3f});
  s.record(1, {2}, {0.95f});
  DataSelection restored(5);
  restored.restore(s.scoresAt(2));
  for (uint64_t k = 1; k <= 5; ++k) EXPECT_EQ(restored.select(k, 2).samples, s.select(k, 2).samples);
  EXPECT_EQ(restored.select(2, 2).samples, (std::vector<uint64_t>{2, 3}));
  ScoreTable bad = s.scoresAt(2);
  bad.steps.pop_back();
  const std::string e = errorOf([&] { DataSelection(5).restore(bad); });
  EXPECT_NE(e.find("5 samples, 4 steps and 5 entropies"), std::string::npos) << e;
}

}  // namespace
}  // namespace distill::coordinator
