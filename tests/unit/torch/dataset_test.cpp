#include "trainer/data/dataset.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "../scratch_dir.h"
#include "common/error.h"
#include "../expect_error.h"
#include "trainer/data/shard_writer.h"

namespace distill::data {
namespace {

using distill::testing::expectError;

using distill::testing::ScratchDir;

constexpr int64_t T = 4;

// Five samples in shards of 2, 2 and 1. Sample i: ids i*4+1 .. i*4+4, the
// last i%2 positions padded (id 0, mask 0), label i % 3.
DatasetManifest writeFiveSamples(const std::string& dir) {
  ShardWriter out(dir, T, /*per_token_labels=*/false, /*samples_per_shard=*/2);
  for (int32_t i = 0; i < 5; ++i) {
    std::vector<int32_t> ids = {i * 4 + 1, i * 4 + 2, i * 4 + 3, i * 4 + 4};
    std::vector<uint8_t> mask = {1, 1, 1, 1};
    if (i % 2) ids[3] = 0, mask[3] = 0;
    out.add(ids, mask, {i % 3});
  }
  return out.finish(kTaskClassification, 3, 32);
}

void flipByte(const std::string& path, long offset_from_end) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-offset_from_end, std::ios::end);
  char c;
  f.get(c);
  f.seekp(-offset_from_end, std::ios::end);
  f.put(char(c ^ 1));
}

TEST(ShardedDataset, GatherAcrossShardBoundaries) {
  ScratchDir dir;
  DatasetManifest written = writeFiveSamples(dir.str());
  ASSERT_EQ(written.shards.size(), 3u);
  auto ds = ShardedDataset::open(dir.str());
  EXPECT_EQ(ds.size(), 5u);
  EXPECT_FALSE(ds.perTokenLabels());

  Batch b = ds.gather({1, 2, 4, 0, 2});
  EXPECT_EQ(b.input_ids.scalar_type(), torch::kInt64);
  EXPECT_EQ(b.attention_mask.scalar_type(), torch::kInt64);
  EXPECT_EQ(b.labels.scalar_type(), torch::kInt64);
  EXPECT_TRUE(torch::equal(b.input_ids, torch::tensor({{5, 6, 7, 0},
                                                       {9, 10, 11, 12},
                                                       {17, 18, 19, 20},
                                                       {1, 2, 3, 4},
                                                       {9, 10, 11, 12}}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(b.attention_mask, torch::tensor({{1, 1, 1, 0},
                                                            {1, 1, 1, 1},
                                                            {1, 1, 1, 1},
                                                            {1, 1, 1, 1},
                                                            {1, 1, 1, 1}}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(b.labels, torch::tensor({1, 2, 1, 0, 2}, torch::kInt64)));
  EXPECT_EQ(ds.gather({}).input_ids.sizes(), (std::vector<int64_t>{0, T}));
  expectError([&] { ds.gather({3, 5}); }, {"sample index 5", "5 samples"});
}

TEST(ShardedDataset, PerTokenLabels) {
  ScratchDir dir;
  ShardWriter out(dir.str(), T, /*per_token_labels=*/true, 8);
  out.add({3, 4, 5, 0}, {1, 1, 1, 0}, {4, 5, -100, -100});
  out.add({6, 7, 8, 9}, {1, 1, 1, 1}, {7, 8, 9, -100});
  out.finish(kTaskLanguageModeling, 0, 10);
  auto ds = ShardedDataset::open(dir.str());
  EXPECT_TRUE(ds.perTokenLabels());
  Batch b = ds.gather({1, 0});
  EXPECT_TRUE(torch::equal(b.labels, torch::tensor({{7, 8, 9, -100}, {4, 5, -100, -100}}, torch::kInt64)));
}

TEST(ShardedDataset, FlippedByteIsDetectedAndNamesTheShard) {
  ScratchDir dir;
  DatasetManifest m = writeFiveSamples(dir.str());
  const std::string shard = dir.path("shard-00001.safetensors");
  flipByte(shard, 1);  // last attention_mask byte (sample 3, a pad): 0 -> 1, still valid
  expectError([&] { ShardedDataset::open(dir.str()); },
              {shard, "sha256 mismatch", "manifest " + m.shards[1].sha256,
               "corrupt or was changed after prepare-data"});
  // Without verification the change goes unnoticed: that is what the checksum is for.
  auto ds = ShardedDataset::open(dir.str(), /*verify_checksums=*/false);
  EXPECT_EQ(ds.gather({3}).attention_mask[0][3].item<int64_t>(), 1);
}

// A shard truncated or replaced while a job reads it is named (it used to
// kill the process with SIGBUS through the memory map); the other shards
// still read.
TEST(ShardedDataset, ShardChangedDuringTrainingIsNamed) {
  ScratchDir dir;
  writeFiveSamples(dir.str());
  auto ds = ShardedDataset::open(dir.str());
  const std::string shard = dir.path("shard-00001.safetensors");
  std::filesystem::resize_file(shard, 40);  // truncated in place
  expectError([&] { ds.gather({0, 2}); }, {shard, "the shard changed while the job was reading it", "40"});
  EXPECT_EQ(ds.gather({0, 4}).labels[1].item<int64_t>(), 1);  // shards 0 and 2 untouched

  // Replaced by another file of the same size (a new inode).
  ScratchDir other;
  writeFiveSamples(other.str());
  auto again = ShardedDataset::open(other.str());
  const std::string victim = other.path("shard-00000.safetensors");
  std::filesystem::copy_file(victim, victim + ".new");
  std::filesystem::rename(victim + ".new", victim);
  expectError([&] { again.gather({1}); }, {victim, "changed while the job was reading it"});
  std::filesystem::remove(other.path("shard-00002.safetensors"));
  expectError([&] { again.gather({4}); }, {"shard-00002.safetensors", "cannot open the shard during training"});
}

TEST(ShardedDataset, ShapesMustMatchTheManifest) {
  ScratchDir dir;
  DatasetManifest m = writeFiveSamples(dir.str());
  m.seq_len = 5;
  m.save();
  expectError([&] { ShardedDataset::open(dir.str()); },
              {dir.path("shard-00000.safetensors"), "'input_ids'", "[2, 4]", "expected [2, 5]"});
  m.seq_len = T;
  m.task = kTaskLanguageModeling;
  m.save();
  expectError([&] { ShardedDataset::open(dir.str()); }, {"'labels'", "expected [2, 4]"});
}

TEST(ShardedDataset, ValuesMustFitTheManifest) {
  ScratchDir dir;
  DatasetManifest m = writeFiveSamples(dir.str());
  m.num_classes = 2;  // sample 2 has label 2
  m.save();
  expectError([&] { ShardedDataset::open(dir.str()); },
              {dir.path("shard-00001.safetensors"), "labels row 0 holds 2", "[0, 2)"});
  m.num_classes = 3;
  m.vocab_size = 20;  // sample 4 holds id 20
  m.save();
  expectError([&] { ShardedDataset::open(dir.str()); },
              {dir.path("shard-00002.safetensors"), "token id 20", "[0, 20)"});
}

TEST(ShardedDataset, MissingTensorNamesTheShard) {
  ScratchDir dir;
  DatasetManifest m = writeFiveSamples(dir.str());
  safetensors::Writer w;  // a shard without labels
  std::vector<int32_t> ids(2 * T, 1);
  std::vector<uint8_t> mask(2 * T, 1);
  w.add("input_ids", safetensors::DType::I32, {2, T}, ids.data(), ids.size() * 4);
  w.add("attention_mask", safetensors::DType::U8, {2, T}, mask.data(), mask.size());
  w.write(dir.path("shard-00000.safetensors"));
  expectError([&] { ShardedDataset::open(dir.str(), false); },
              {dir.path("shard-00000.safetensors"), "missing tensor 'labels'"});
}

}  // namespace
}  // namespace distill::data
