#include "trainer/data/prepare_data.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "../scratch_dir.h"
#include "common/error.h"
#include "common/sha256.h"
#include "trainer/data/dataset.h"
#include "trainer/data/shard_writer.h"

namespace distill::data {
namespace {

using distill::testing::ScratchDir;

std::string writeText(const ScratchDir& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir.path(name)) << text;
  return dir.path(name);
}

// The message of the distill::Error that prepareFromJsonl throws.
std::string prepareError(const std::string& jsonl, const std::string& out, PrepareOptions opt = {}) {
  try {
    prepareFromJsonl(jsonl, out, opt);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(PrepareData, PadOrTruncate) {
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
  padOrTruncate({5, 6}, 4, 0, &ids, &mask);
  EXPECT_EQ(ids, (std::vector<int32_t>{5, 6, 0, 0}));
  EXPECT_EQ(mask, (std::vector<uint8_t>{1, 1, 0, 0}));
  padOrTruncate({5, 6, 7, 8, 9}, 3, 1, &ids, &mask);
  EXPECT_EQ(ids, (std::vector<int32_t>{5, 6, 7}));
  EXPECT_EQ(mask, (std::vector<uint8_t>{1, 1, 1}));
}

TEST(PrepareData, ClassificationJsonlPadsTruncatesAndShards) {
  ScratchDir dir;
  std::string jsonl = writeText(dir, "train.jsonl",
                                "{\"input_ids\": [3, 4], \"label\": 1}\n"
                                "\n"
                                "{\"input_ids\": [5, 6, 7, 8, 9, 10], \"label\": 0}\n"
                                "{\"input_ids\": [11], \"label\": 2}\r\n");
  PrepareOptions opt;
  opt.seq_len = 4;
  opt.samples_per_shard = 2;
  DatasetManifest m = prepareFromJsonl(jsonl, dir.path("out"), opt);
  EXPECT_EQ(m.task, kTaskClassification);
  EXPECT_EQ(m.num_classes, 3);   // max label + 1
  EXPECT_EQ(m.vocab_size, 12);   // max id + 1
  EXPECT_EQ(m.num_samples, 3u);
  ASSERT_EQ(m.shards.size(), 2u);
  EXPECT_EQ(m.shards[0].sha256, sha256File(dir.path("out/shard-00000.safetensors")));

  Batch b = ShardedDataset::open(dir.path("out")).gather({0, 1, 2});
  EXPECT_TRUE(torch::equal(b.input_ids, torch::tensor({{3, 4, 0, 0}, {5, 6, 7, 8}, {11, 0, 0, 0}}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(b.attention_mask, torch::tensor({{1, 1, 0, 0}, {1, 1, 1, 1}, {1, 0, 0, 0}}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(b.labels, torch::tensor({1, 0, 2}, torch::kInt64)));
}

TEST(PrepareData, PerTokenJsonlPadsLabelsWithIgnore) {
  ScratchDir dir;
  std::string jsonl = writeText(dir, "lm.jsonl",
                                "{\"input_ids\": [1, 2, 3], \"labels\": [2, 3, -100]}\n"
                                "{\"input_ids\": [4, 5, 6, 7, 8, 9], \"labels\": [5, 6, 7, 8, 9, -100]}\n");
  PrepareOptions opt;
  opt.seq_len = 5;
  opt.vocab_size = 16;
  DatasetManifest m = prepareFromJsonl(jsonl, dir.path("out"), opt);
  EXPECT_EQ(m.task, kTaskLanguageModeling);
  EXPECT_EQ(m.vocab_size, 16);
  Batch b = ShardedDataset::open(dir.path("out")).gather({0, 1});
  EXPECT_TRUE(torch::equal(b.labels, torch::tensor({{2, 3, -100, -100, -100}, {5, 6, 7, 8, 9}}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(b.input_ids, torch::tensor({{1, 2, 3, 0, 0}, {4, 5, 6, 7, 8}}, torch::kInt64)));
}

TEST(PrepareData, BadLinesNameFileAndLine) {
  ScratchDir dir;
  const std::string ok = "{\"input_ids\": [1, 2], \"label\": 0}\n{\"input_ids\": [3], \"label\": 1}\n";
  auto bad = [&](const std::string& third_line) {
    return writeText(dir, "bad.jsonl", ok + third_line + "\n");
  };
  const std::string at3 = dir.path("bad.jsonl") + ":3: ";
  std::string out = dir.path("out");
  EXPECT_NE(prepareError(bad("{\"input_ids\": [1, \"x\"], \"label\": 0}"), out).find(at3 + "'input_ids'[1]"), std::string::npos);
  EXPECT_NE(prepareError(bad("{\"input_ids\": [1, 2], \"label\": 0"), out).find(at3 + "not valid JSON"), std::string::npos);
  EXPECT_NE(prepareError(bad("{\"input_ids\": [1, -4], \"label\": 0}"), out).find(at3 + "'input_ids'[1] is -4"), std::string::npos);
  EXPECT_NE(prepareError(bad("{\"input_ids\": [1], \"label\": -1}"), out).find(at3 + "'label'"), std::string::npos);
  EXPECT_NE(prepareError(bad("{\"input_ids\": [1], \"labels\": [1]}"), out).find(at3 + "has \"labels\""), std::string::npos);
  EXPECT_NE(prepareError(bad("{\"input_ids\": [], \"label\": 0}"), out).find(at3 + "'input_ids' is empty"), std::string::npos);
  EXPECT_NE(prepareError(bad("{\"tokens\": [1]}"), out).find(at3 + "each line must be"), std::string::npos);
  PrepareOptions small;
  small.vocab_size = 4;
  EXPECT_NE(prepareError(bad("{\"input_ids\": [1, 4], \"label\": 0}"), out, small).find(at3 + "token id 4"), std::string::npos);
  small = {};
  small.num_classes = 2;
  EXPECT_NE(prepareError(bad("{\"input_ids\": [1], \"label\": 2}"), out, small).find(at3 + "label 2"), std::string::npos);
  std::string lm = writeText(dir, "lm.jsonl", "{\"input_ids\": [1, 2], \"labels\": [2]}\n");
  EXPECT_NE(prepareError(lm, out).find(lm + ":1: 'labels' has 1 entries"), std::string::npos);
  // A failed run leaves no manifest behind.
  EXPECT_FALSE(std::filesystem::exists(dir.path("out/dataset.json")));
}

TEST(PrepareData, EmptyOrMissingFile) {
  ScratchDir dir;
  std::string empty = writeText(dir, "empty.jsonl", "\n\n");
  EXPECT_NE(prepareError(empty, dir.path("out")).find(empty + ": holds no samples"), std::string::npos);
  EXPECT_NE(prepareError(dir.path("nope.jsonl"), dir.path("out")).find("cannot open"), std::string::npos);
  std::string one_class = writeText(dir, "one.jsonl", "{\"input_ids\": [1], \"label\": 0}\n");
  EXPECT_NE(prepareError(one_class, dir.path("out")).find("at least 2 classes"), std::string::npos);
}

TEST(PrepareData, RerunRemovesStaleShards) {
  ScratchDir dir;
  std::string text;
  for (int i = 0; i < 5; ++i) text += "{\"input_ids\": [1, 2], \"label\": " + std::to_string(i % 2) + "}\n";
  std::string jsonl = writeText(dir, "a.jsonl", text);
  PrepareOptions opt;
  opt.seq_len = 2;
  opt.samples_per_shard = 1;
  prepareFromJsonl(jsonl, dir.path("out"), opt);
  EXPECT_TRUE(std::filesystem::exists(dir.path("out/shard-00004.safetensors")));
  opt.samples_per_shard = 3;
  EXPECT_EQ(prepareFromJsonl(jsonl, dir.path("out"), opt).shards.size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(dir.path("out/shard-00002.safetensors")));
  EXPECT_FALSE(std::filesystem::exists(dir.path("out/shard-00004.safetensors")));
  EXPECT_EQ(ShardedDataset::open(dir.path("out")).size(), 5u);
}

}  // namespace
}  // namespace distill::data
