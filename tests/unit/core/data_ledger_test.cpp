#include "coordinator/data_ledger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "common/dataset_manifest.h"
#include "common/error.h"
#include "common/sha256.h"
#include "tests/unit/scratch_dir.h"

namespace distill::coordinator {
namespace {

// 100 samples; batch 4 per worker.
DataShape shape(int workers, uint64_t batch_size = 4, uint64_t seed = 9, std::string digest = "d1") {
  return DataShape{{40, 30, 30}, seed, batch_size, workers, std::move(digest)};
}

// The same with training.data_selection.fraction.
DataShape selecting(int workers, double fraction = 0.3) {
  DataShape s = shape(workers);
  s.selection_fraction = fraction;
  return s;
}

// A made-up student entropy: a function of the sample and the step, distinct per sample.
float entropyOf(uint64_t sample, uint64_t step) { return static_cast<float>((sample * 37 + step * 11) % 101) / 100.f; }

// What the workers send for steps [from, to): every worker's batch with entropyOf.
void scoreSteps(DataLedger& ledger, uint64_t from, uint64_t to, int workers) {
  for (uint64_t step = from; step < to; ++step) {
    for (int w = 0; w < workers; ++w) {
      const auto ids = ledger.schedule().samples(step, w);
      std::vector<float> entropy;
      for (uint64_t id : ids) entropy.push_back(entropyOf(id, step));
      ledger.recordScores(step, ids, entropy);
    }
  }
}

// Trains `ledger` to `to` the way the coordinator does: scores every step,
// selects each epoch once the steps before it are scored.
void trainTo(DataLedger& ledger, uint64_t from, uint64_t to, int workers) {
  for (uint64_t step = from; step < to; ++step) {
    if (ledger.schedule().selectionHorizon() == step) ledger.selectNextEpoch();
    scoreSteps(ledger, step, step + 1, workers);
  }
}

std::vector<uint64_t> epochSamplesSeen(DataLedger& ledger, uint64_t epoch, int workers) {
  std::vector<uint64_t> seen;
  const auto& plan = ledger.schedule();
  for (uint64_t step = std::max(plan.start().step, plan.stepsForEpochs(epoch)); step < plan.stepsForEpochs(epoch + 1);
       ++step)
    for (int w = 0; w < workers; ++w) {
      const auto ids = ledger.schedule().samples(step, w);
      seen.insert(seen.end(), ids.begin(), ids.end());
    }
  return seen;
}

std::string writeState(testing::ScratchDir& dir, const nlohmann::json& state) {
  const std::string file = dir.path("state.json");
  std::ofstream(file) << state.dump(2);
  return file;
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DataLedger, AFreshJobHasOneSegmentFromStepZero) {
  DataLedger ledger(shape(2));
  ASSERT_EQ(ledger.segments().size(), 1u);
  EXPECT_EQ(ledger.segments()[0], (LedgerSegment{LedgerPosition{0, 0, 0}, 8, 2}));
  EXPECT_EQ(ledger.resumedWorkers(), 0);
  EXPECT_EQ(ledger.totalSteps(0, 2), 24u);  // 12 steps of 8 per epoch
  EXPECT_EQ(ledger.totalSteps(7, 2), 7u);   // max_steps wins
  const nlohmann::json r = ledger.record(13);
  EXPECT_EQ(r.at("step"), 13);
  EXPECT_EQ(r.at("epoch"), 1);
  EXPECT_EQ(r.at("epoch_offset"), 8);
  EXPECT_EQ(r.at("steps_per_epoch"), 12);
  EXPECT_EQ(r.at("global_batch"), 8);
  EXPECT_EQ(r.at("batch_size"), 4);
  EXPECT_EQ(r.at("num_workers"), 2);
  EXPECT_EQ(r.at("samples_consumed"), 104);
  EXPECT_EQ(r.at("seed"), 9);
  EXPECT_EQ(r.at("dataset_samples"), 100);
  EXPECT_EQ(r.at("dataset_sha256"), "d1");
  EXPECT_EQ(r.at("segments").size(), 1u);
}

TEST(DataLedger, ResumeOnTheSameWorkerCountContinuesItsSegment) {
  testing::ScratchDir dir;
  DataLedger straight(shape(2));
  DataLedger resumed = DataLedger::resume(writeState(dir, straight.record(10)), shape(2));
  EXPECT_EQ(resumed.segments(), straight.segments());
  EXPECT_EQ(resumed.resumedWorkers(), 2);
  EXPECT_EQ(resumed.totalSteps(0, 3), straight.totalSteps(0, 3));
  for (uint64_t step = 10; step < 40; ++step) {
    for (int w = 0; w < 2; ++w) ASSERT_EQ(resumed.schedule().samples(step, w), straight.schedule().samples(step, w));
  }
  nlohmann::json a = resumed.record(30), b = straight.record(30);
  EXPECT_EQ(a, b);
}

TEST(DataLedger, ResumeOnThreeWorkersStartsASegmentWhereTheCheckpointStopped) {
  testing::ScratchDir dir;
  DataLedger two(shape(2));
  DataLedger three = DataLedger::resume(writeState(dir, two.record(4)), shape(3));
  ASSERT_EQ(three.segments().size(), 2u);
  EXPECT_EQ(three.segments()[1], (LedgerSegment{LedgerPosition{4, 0, 32}, 12, 3}));
  EXPECT_EQ(three.resumedWorkers(), 2);
  // 68 samples left of epoch 0: 5 steps of 12 (8 dropped), then 8 steps per epoch.
  EXPECT_EQ(three.totalSteps(0, 2), 4u + 5u + 8u);
  EXPECT_EQ(three.totalSteps(30, 2), 30u);
  EXPECT_EQ(three.samplesConsumed(4), 32u);
  EXPECT_EQ(three.samplesConsumed(17), 32u + 13u * 12u);
  const nlohmann::json r = three.record(12);
  EXPECT_EQ(r.at("epoch"), 1);
  EXPECT_EQ(r.at("epoch_offset"), 36);
  EXPECT_EQ(r.at("num_workers"), 3);
  EXPECT_EQ(r.at("global_batch"), 12);
  EXPECT_EQ(r.at("samples_consumed"), 32 + 8 * 12);

  // And back to 2 workers: a third segment, the first two kept.
  DataLedger again = DataLedger::resume(writeState(dir, r), shape(2));
  ASSERT_EQ(again.segments().size(), 3u);
  EXPECT_EQ(again.segments()[0], two.segments()[0]);
  EXPECT_EQ(again.segments()[1], three.segments()[1]);
  EXPECT_EQ(again.segments()[2], (LedgerSegment{LedgerPosition{12, 1, 36}, 8, 2}));
  EXPECT_EQ(again.totalSteps(0, 2), 12u + 8u);  // 64 left of epoch 1: 8 steps of 8
}

TEST(DataLedger, ChangedSeedBatchSizeOrDatasetIsRefusedNamingFileAndField) {
  testing::ScratchDir dir;
  const std::string file = writeState(dir, DataLedger(shape(2)).record(4));
  const std::string seed = errorOf([&] { DataLedger::resume(file, shape(2, 4, 10)); });
  EXPECT_NE(seed.find(file), std::string::npos) << seed;
  EXPECT_NE(seed.find("\"seed\""), std::string::npos) << seed;
  EXPECT_NE(seed.find("--set seed=9"), std::string::npos) << seed;
  const std::string batch = errorOf([&] { DataLedger::resume(file, shape(3, 8)); });
  EXPECT_NE(batch.find(file), std::string::npos) << batch;
  EXPECT_NE(batch.find("\"batch_size\""), std::string::npos) << batch;
  EXPECT_NE(batch.find("training.batch_size=4"), std::string::npos) << batch;
  const std::string data = errorOf([&] { DataLedger::resume(file, shape(2, 4, 9, "d2")); });
  EXPECT_NE(data.find(file), std::string::npos) << data;
  EXPECT_NE(data.find("\"dataset_sha256\""), std::string::npos) << data;
  EXPECT_NE(data.find("data.train"), std::string::npos) << data;
}

TEST(DataLedger, AMissingFieldIsNamed) {
  testing::ScratchDir dir;
  nlohmann::json state = DataLedger(shape(2)).record(4);
  state.erase("samples_consumed");
  const std::string file = writeState(dir, state);
  const std::string error = errorOf([&] { DataLedger::resume(file, shape(3)); });
  EXPECT_NE(error.find(file), std::string::npos) << error;
  EXPECT_NE(error.find("samples_consumed"), std::string::npos) << error;
}

// A float where a count belongs converted with undefined behaviour (found by
// tests/fuzz/state_json_fuzz.cpp): every such field is refused by name.
TEST(DataLedger, AFloatOrNegativeCountIsNamed) {
  testing::ScratchDir dir;
  for (const char* field : {"step", "num_workers", "epoch", "samples_consumed"}) {
    for (const nlohmann::json& bad : {nlohmann::json(1e300), nlohmann::json(-3), nlohmann::json(2.5)}) {
      nlohmann::json state = DataLedger(shape(2)).record(4);
      state[field] = bad;
      const std::string file = writeState(dir, state);
      const std::string error = errorOf([&] { DataLedger::resume(file, shape(2)); });
      EXPECT_EQ(error.rfind(file + ": ", 0), 0u) << error;
      EXPECT_NE(error.find(field), std::string::npos) << error;
    }
  }
  nlohmann::json state = DataLedger(shape(2)).record(4);
  state["segments"][0]["global_batch"] = 1e300;
  const std::string file = writeState(dir, state);
  const std::string error = errorOf([&] { DataLedger::resume(file, shape(2)); });
  EXPECT_NE(error.find("segments: expected a non-negative integer, got 1e+300"), std::string::npos) << error;
}

TEST(DataLedger, AnOffsetPastTheDatasetNamesTheFile) {
  testing::ScratchDir dir;
  nlohmann::json state = DataLedger(shape(2)).record(4);
  state["epoch_offset"] = 101;
  const std::string file = writeState(dir, state);
  const std::string error = errorOf([&] { DataLedger::resume(file, shape(3)); });
  EXPECT_NE(error.find(file), std::string::npos) << error;
  EXPECT_NE(error.find("sample 101"), std::string::npos) << error;
}

TEST(DataLedger, ReadsTheStateOfCheckpointsWrittenBeforeTheLedgerHadSegments) {
  // What the previous version wrote: no batch_size, epoch_offset, dataset or segments.
  testing::ScratchDir dir;
  const nlohmann::json old = {{"step", 14},         {"epoch", 1},     {"steps_per_epoch", 12},
                              {"global_batch", 8},  {"samples_consumed", 112}, {"num_workers", 2},
                              {"seed", 9},          {"total_steps", 24}};
  const std::string file = writeState(dir, old);
  DataLedger same = DataLedger::resume(file, shape(2));
  DataLedger straight(shape(2));
  EXPECT_EQ(same.segments(), straight.segments());
  for (int w = 0; w < 2; ++w) EXPECT_EQ(same.schedule().samples(14, w), straight.schedule().samples(14, w));
  DataLedger three = DataLedger::resume(file, shape(3));
  ASSERT_EQ(three.segments().size(), 2u);
  EXPECT_EQ(three.segments()[1].start, (LedgerPosition{14, 1, 16}));
  EXPECT_EQ(three.samplesConsumed(15), 124u);
}

TEST(DataLedger, SelectionKeepsTheMostUncertainSamplesForTheNextEpoch) {
  // fraction 0.3 of 100 at global batch 8: 24 samples, 3 steps an epoch after
  // epoch 0's 12 (whose last 4 samples are dropped: never scored).
  DataLedger ledger(selecting(2));
  EXPECT_TRUE(ledger.selecting());
  EXPECT_EQ(ledger.schedule().keptPerEpoch(), 24u);
  EXPECT_EQ(ledger.totalSteps(0, 3), 12u + 3u + 3u);
  EXPECT_EQ(ledger.schedule().selectionHorizon(), 12u);
  scoreSteps(ledger, 0, 12, 2);
  const EpochSelection chosen = ledger.selectNextEpoch();
  EXPECT_EQ(chosen.epoch, 1u);
  EXPECT_EQ(chosen.first_step, 12u);
  EXPECT_EQ(chosen.kept, 24u);
  EXPECT_EQ(chosen.num_samples, 100u);
  EXPECT_EQ(chosen.never_scored, 4u);

  // Expected: the 4 dropped samples, then the 20 highest entropyOf(id, step
  // it was trained in), ties to the lower id.
  const auto order0 = ledger.schedule().epochOrder(0);
  std::vector<std::pair<float, uint64_t>> ranked;
  for (uint64_t i = 0; i < 100; ++i) {
    ranked.push_back({i < 96 ? entropyOf(order0[i], i / 8) : 2.f, order0[i]});
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<uint64_t> expected;
  for (size_t i = 0; i < 24; ++i) expected.push_back(ranked[i].second);
  std::sort(expected.begin(), expected.end());
  EXPECT_FLOAT_EQ(chosen.min_entropy, ranked[23].first);
  EXPECT_EQ(ledger.schedule().epochSamples(1), expected);

  // Epoch 1 on every worker: exactly the selected samples, each once.
  auto seen = epochSamplesSeen(ledger, 1, 2);
  ASSERT_EQ(seen.size(), 24u);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, expected);

  const nlohmann::json r = ledger.record(13);
  const auto& ds = r.at("data_selection");
  EXPECT_EQ(ds.at("fraction"), 0.3);
  EXPECT_EQ(ds.at("kept_per_epoch"), 24);
  EXPECT_EQ(ds.at("epoch"), 1);
  EXPECT_EQ(ds.at("selected").get<std::vector<uint64_t>>(), expected);
  EXPECT_EQ(ds.at("scores").at("samples").size(), 96u);  // the steps before 13 scored epoch 0's 96 only
  EXPECT_EQ(ledger.record(5).at("data_selection").at("selected").size(), 0u);  // epoch 0: every sample
  EXPECT_EQ(ledger.record(5).at("data_selection").at("scores").at("samples").size(), 40u);
  EXPECT_FALSE(DataLedger(shape(2)).record(5).contains("data_selection"));
}

TEST(DataLedger, ACheckpointRecordsTheScoresOfItsStepEvenWhenWorkersAreAhead) {
  DataLedger ledger(selecting(2));
  trainTo(ledger, 0, 14, 2);
  const nlohmann::json at12 = ledger.record(12);  // committed late: workers already scored steps 12 and 13
  const auto& scores = at12.at("data_selection").at("scores");
  for (uint64_t step : scores.at("steps").get<std::vector<uint64_t>>()) EXPECT_LT(step, 12u);
  EXPECT_EQ(at12.at("data_selection").at("selected").get<std::vector<uint64_t>>(), ledger.schedule().epochSamples(1));
  // Pruning at the commit of step 12 changes nothing a later checkpoint records.
  const nlohmann::json at14 = ledger.record(14);
  ledger.prune(12);
  EXPECT_EQ(ledger.record(12), at12);
  EXPECT_EQ(ledger.record(14), at14);
}

TEST(DataLedger, ResumeWithSelectionRestoresTheSamplesOfEveryLaterStep) {
  testing::ScratchDir dir;
  for (uint64_t stop : {5u, 12u, 13u, 15u, 16u}) {
    DataLedger straight(selecting(2));
    trainTo(straight, 0, stop, 2);
    DataLedger resumed = DataLedger::resume(writeState(dir, straight.record(stop)), selecting(2));
    EXPECT_EQ(resumed.segments(), straight.segments());
    EXPECT_EQ(resumed.totalSteps(0, 5), straight.totalSteps(0, 5)) << stop;
    EXPECT_EQ(resumed.record(stop), straight.record(stop)) << stop;
    // Both go on the same way: the same scores, the same selections, the same batches.
    for (uint64_t step = stop; step < straight.totalSteps(0, 5); ++step) {
      trainTo(straight, step, step + 1, 2);
      trainTo(resumed, step, step + 1, 2);
      for (int w = 0; w < 2; ++w) {
        ASSERT_EQ(resumed.schedule().samples(step, w), straight.schedule().samples(step, w))
            << "stopped at " << stop << ", step " << step;
      }
    }
    EXPECT_EQ(resumed.record(straight.totalSteps(0, 5)), straight.record(straight.totalSteps(0, 5)));
  }
}

TEST(DataLedger, ACheckpointAtAnEpochsFirstStepBeforeItsSelectionIsSelectedOnResume) {
  // The job ended (or stopped) at step 12 before epoch 1 was selected: the
  // checkpoint has no subset, and the scores of every step before 12.
  testing::ScratchDir dir;
  DataLedger straight(selecting(2));
  trainTo(straight, 0, 12, 2);
  const nlohmann::json r = straight.record(12);
  EXPECT_EQ(r.at("data_selection").at("selected").size(), 0u);
  DataLedger resumed = DataLedger::resume(writeState(dir, r), selecting(2));
  EXPECT_EQ(resumed.schedule().selectionHorizon(), 12u);
  straight.selectNextEpoch();
  resumed.selectNextEpoch();
  EXPECT_EQ(resumed.schedule().epochSamples(1), straight.schedule().epochSamples(1));
}

// 2 workers checkpoint at step 13 (sample 8 of epoch 1's 24); 3 workers
// (global batch 12) train the 16 left in 1 step, 4 dropped, then keep 24 (2
// steps) per epoch.
TEST(DataLedger, ResumeWithSelectionOnThreeWorkersInsideASubsetEpoch) {
  testing::ScratchDir dir;
  DataLedger two(selecting(2));
  trainTo(two, 0, 13, 2);
  DataLedger three = DataLedger::resume(writeState(dir, two.record(13)), selecting(3));
  EXPECT_EQ(three.schedule().start(), (LedgerPosition{13, 1, 8}));
  EXPECT_EQ(three.schedule().epochSamples(1), two.schedule().epochSamples(1));
  EXPECT_EQ(three.schedule().keptPerEpoch(), 24u);
  EXPECT_EQ(three.totalSteps(0, 3), 13u + 1u + 2u);
  EXPECT_EQ(three.schedule().selectionHorizon(), 14u);
  const auto order1 = two.schedule().epochOrder(1);
  std::vector<uint64_t> step13;
  for (int w = 0; w < 3; ++w) {
    const auto ids = three.schedule().samples(13, w);
    step13.insert(step13.end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(step13, std::vector<uint64_t>(order1.begin() + 8, order1.begin() + 20));
  trainTo(three, 13, 16, 3);
  auto seen = epochSamplesSeen(three, 2, 3);
  ASSERT_EQ(seen.size(), 24u);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, three.schedule().epochSamples(2));
  EXPECT_EQ(three.record(15).at("data_selection").at("epoch"), 2);

  // At 0.1 the 3-worker global batch of 12 is more than 10 samples: refused.
  DataLedger small(selecting(2, 0.1));
  trainTo(small, 0, 13, 2);
  const std::string file = writeState(dir, small.record(13));
  const std::string e = errorOf([&] { DataLedger::resume(file, selecting(3, 0.1)); });
  EXPECT_NE(e.find(file), std::string::npos) << e;
  EXPECT_NE(e.find("training.data_selection.fraction"), std::string::npos) << e;
  EXPECT_NE(e.find("one global batch (12 samples"), std::string::npos) << e;
}

TEST(DataLedger, EntropiesSurviveStateJsonBitForBit) {
  testing::ScratchDir dir;
  DataLedger ledger(selecting(2));
  const std::vector<float> entropy{0.1f, 1.f / 3.f, 2.7182817f, 1e-7f, 0.f, 1234.5677f, 0.99999994f, 3.4e38f};
  const auto ids = ledger.schedule().samples(0, 0);
  ledger.recordScores(0, {ids.begin(), ids.end()}, {entropy.begin(), entropy.begin() + 4});
  const auto more = ledger.schedule().samples(0, 1);
  ledger.recordScores(0, {more.begin(), more.end()}, {entropy.begin() + 4, entropy.end()});
  DataLedger resumed = DataLedger::resume(writeState(dir, ledger.record(1)), selecting(2));
  const nlohmann::json state = resumed.record(1);
  const auto& scores = state.at("data_selection").at("scores");
  std::vector<std::pair<uint64_t, float>> got, want;
  for (size_t i = 0; i < 8; ++i) {
    got.push_back({scores.at("samples")[i].get<uint64_t>(), scores.at("entropy")[i].get<float>()});
    want.push_back({i < 4 ? ids[i] : more[i - 4], entropy[i]});
  }
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

TEST(DataLedger, AFractionBelowOneGlobalBatchIsRefusedAtStart) {
  const std::string e = errorOf([] { DataLedger(selecting(2, 0.05)); });
  EXPECT_NE(e.find("training.data_selection.fraction: 0.05"), std::string::npos) << e;
  EXPECT_NE(e.find("100 samples"), std::string::npos) << e;
  EXPECT_NE(e.find("(8 samples"), std::string::npos) << e;
}

TEST(DataLedger, ChangedOrToggledSelectionIsRefusedNamingFileAndField) {
  testing::ScratchDir dir;
  DataLedger with(selecting(2));
  trainTo(with, 0, 13, 2);
  const std::string selected = writeState(dir, with.record(13));
  const std::string changed = errorOf([&] { DataLedger::resume(selected, selecting(2, 0.5)); });
  EXPECT_NE(changed.find(selected), std::string::npos) << changed;
  EXPECT_NE(changed.find("\"data_selection.fraction\""), std::string::npos) << changed;
  EXPECT_NE(changed.find("--set training.data_selection.fraction=0.3"), std::string::npos) << changed;
  const std::string off = errorOf([&] { DataLedger::resume(selected, shape(2)); });
  EXPECT_NE(off.find(selected), std::string::npos) << off;
  EXPECT_NE(off.find("\"data_selection\""), std::string::npos) << off;
  EXPECT_NE(off.find("--set training.data_selection.fraction=0.3"), std::string::npos) << off;

  testing::ScratchDir plain_dir;
  const std::string plain = writeState(plain_dir, DataLedger(shape(2)).record(4));
  const std::string on = errorOf([&] { DataLedger::resume(plain, selecting(2)); });
  EXPECT_NE(on.find(plain), std::string::npos) << on;
  EXPECT_NE(on.find("\"data_selection\" is missing"), std::string::npos) << on;
  EXPECT_NE(on.find("training.data_selection.fraction=0"), std::string::npos) << on;

  nlohmann::json broken = with.record(13);
  broken["data_selection"].erase("scores");
  const std::string file = writeState(dir, broken);
  const std::string missing = errorOf([&] { DataLedger::resume(file, selecting(2)); });
  EXPECT_NE(missing.find("\"data_selection\""), std::string::npos) << missing;
  EXPECT_NE(missing.find("scores"), std::string::npos) << missing;
}

TEST(DataLedger, DatasetDigestIsTheSha256OfShardCountsAndChecksums) {
  data::DatasetManifest m;
  m.shards = {{"shard-00000.safetensors", 40, std::string(64, 'a')}, {"shard-00001.safetensors", 2, "ff"}};
  const std::string text = "40 " + std::string(64, 'a') + "\n2 ff\n";
  EXPECT_EQ(datasetDigest(m), sha256Hex(text.data(), text.size()));
  data::DatasetManifest other = m;
  other.shards[1].sha256 = "fe";
  EXPECT_NE(datasetDigest(other), datasetDigest(m));
}

}  // namespace
}  // namespace distill::coordinator
