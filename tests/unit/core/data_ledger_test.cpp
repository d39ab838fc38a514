#include "coordinator/data_ledger.h"

#include <gtest/gtest.h>

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
