#include "common/dataset_manifest.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "../scratch_dir.h"
#include "common/error.h"

namespace distill::data {
namespace {

using distill::testing::ScratchDir;

const std::string kHash(64, 'a');

// A manifest of three shards (4 + 3 + 5 samples) whose files exist.
DatasetManifest threeShards(const ScratchDir& dir) {
  DatasetManifest m;
  m.dir = dir.str();
  m.task = kTaskClassification;
  m.num_classes = 6;
  m.vocab_size = 64;
  m.seq_len = 24;
  m.num_samples = 12;
  uint64_t counts[] = {4, 3, 5};
  for (size_t i = 0; i < 3; ++i) {
    m.shards.push_back({shardFileName(i), counts[i], kHash});
    std::ofstream(dir.path(shardFileName(i))) << "x";
  }
  return m;
}

void writeManifest(const ScratchDir& dir, const std::string& text) {
  std::ofstream(dir.path("dataset.json")) << text;
}

// Expects load() to fail with every one of `parts` in the message, plus dataset.json.
void expectLoadError(const ScratchDir& dir, std::vector<std::string> parts) {
  try {
    DatasetManifest::load(dir.str());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    parts.push_back(dir.path("dataset.json"));
    for (const auto& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message '" << e.what() << "' lacks '" << p << "'";
  }
}

TEST(DatasetManifest, ShardFileNames) {
  EXPECT_EQ(shardFileName(0), "shard-00000.safetensors");
  EXPECT_EQ(shardFileName(123), "shard-00123.safetensors");
}

TEST(DatasetManifest, SaveLoadRoundTrip) {
  ScratchDir dir;
  threeShards(dir).save();
  DatasetManifest m = DatasetManifest::load(dir.str());
  EXPECT_EQ(m.dir, dir.str());
  EXPECT_EQ(m.task, "classification");
  EXPECT_TRUE(m.isClassification());
  EXPECT_EQ(m.num_classes, 6);
  EXPECT_EQ(m.vocab_size, 64);
  EXPECT_EQ(m.seq_len, 24);
  EXPECT_EQ(m.num_samples, 12u);
  ASSERT_EQ(m.shards.size(), 3u);
  EXPECT_EQ(m.shards[2].file, "shard-00002.safetensors");
  EXPECT_EQ(m.shards[1].num_samples, 3u);
  EXPECT_EQ(m.shards[0].sha256, kHash);
  EXPECT_EQ(m.shardPath(1), dir.str() + "/shard-00001.safetensors");
}

TEST(DatasetManifest, LocateAcrossShards) {
  ScratchDir dir;
  DatasetManifest m = threeShards(dir);
  EXPECT_EQ(m.locate(0), std::make_pair(size_t(0), uint64_t(0)));
  EXPECT_EQ(m.locate(3), std::make_pair(size_t(0), uint64_t(3)));
  EXPECT_EQ(m.locate(4), std::make_pair(size_t(1), uint64_t(0)));
  EXPECT_EQ(m.locate(6), std::make_pair(size_t(1), uint64_t(2)));
  EXPECT_EQ(m.locate(7), std::make_pair(size_t(2), uint64_t(0)));
  EXPECT_EQ(m.locate(11), std::make_pair(size_t(2), uint64_t(4)));
  EXPECT_THROW(m.locate(12), Error);
  EXPECT_EQ(m.shardStarts(), (std::vector<uint64_t>{0, 4, 7, 12}));
}

TEST(DatasetManifest, LanguageModelingNeedsNoClasses) {
  ScratchDir dir;
  DatasetManifest m = threeShards(dir);
  m.task = kTaskLanguageModeling;
  m.num_classes = 0;
  m.save();
  EXPECT_EQ(DatasetManifest::load(dir.str()).task, "language_modeling");
}

TEST(DatasetManifest, MissingDirectoryOrFile) {
  ScratchDir dir;
  expectLoadError(dir, {"cannot open", "prepare-data"});
  writeManifest(dir, "{not json");
  expectLoadError(dir, {"not valid JSON"});
}

TEST(DatasetManifest, CountsMustAddUp) {
  ScratchDir dir;
  threeShards(dir).save();
  std::ifstream in(dir.path("dataset.json"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto pos = text.find("\"num_samples\": 12");
  ASSERT_NE(pos, std::string::npos);
  writeManifest(dir, text.replace(pos, 17, "\"num_samples\": 13"));
  expectLoadError(dir, {"'num_samples'", "13", "12"});
}

TEST(DatasetManifest, FieldErrorsNameTheField) {
  ScratchDir dir;
  threeShards(dir);  // creates the shard files
  auto shard = [](const std::string& file, const std::string& n, const std::string& hash) {
    return R"({"file": ")" + file + R"(", "num_samples": )" + n + R"(, "sha256": ")" + hash + "\"}";
  };
  const std::string head = R"({"format": "distill-dataset/1", "vocab_size": 64, "seq_len": 24, )";
  const std::string ok = shard("shard-00000.safetensors", "4", kHash);

  writeManifest(dir, R"({"format": "distill-dataset/9"})");
  expectLoadError(dir, {"'format'", "distill-dataset/9"});
  writeManifest(dir, head + R"("task": "regression", "num_samples": 4, "shards": [)" + ok + "]}");
  expectLoadError(dir, {"'task'", "regression"});
  writeManifest(dir, head + R"("task": "classification", "num_samples": 4, "shards": [)" + ok + "]}");
  expectLoadError(dir, {"missing field 'num_classes'"});
  writeManifest(dir, head + R"("task": "classification", "num_classes": -1, "num_samples": 4, "shards": [)" + ok + "]}");
  expectLoadError(dir, {"'num_classes'", "non-negative integer"});
  const std::string cls = head + R"("task": "classification", "num_classes": 6, )";
  writeManifest(dir, cls + R"("num_samples": 4, "shards": []})");
  expectLoadError(dir, {"'shards'", "no shard"});
  writeManifest(dir, cls + R"("num_samples": 4, "shards": [)" + shard("shard-00000.safetensors", "4", "abc") + "]}");
  expectLoadError(dir, {"shards[0].sha256"});
  writeManifest(dir, cls + R"("num_samples": 4, "shards": [)" + shard("missing.safetensors", "4", kHash) + "]}");
  expectLoadError(dir, {"shards[0].file", "missing.safetensors", "does not exist"});
  std::filesystem::create_directory(dir.path("adir"));
  writeManifest(dir, cls + R"("num_samples": 4, "shards": [)" + shard("adir", "4", kHash) + "]}");
  expectLoadError(dir, {"shards[0].file", "adir", "is a directory, not a shard file"});
  ASSERT_EQ(::mkfifo(dir.path("fifo").c_str(), 0600), 0);
  writeManifest(dir, cls + R"("num_samples": 4, "shards": [)" + shard("fifo", "4", kHash) + "]}");
  expectLoadError(dir, {"shards[0].file", "fifo", "is a FIFO, not a shard file"});
  writeManifest(dir, cls + R"("num_samples": 4, "num_samples": 5, "shards": [)" + ok + "]}");
  expectLoadError(dir, {"dataset.json", "key \"num_samples\" is given twice"});
  writeManifest(dir, cls + R"("num_samples": 4, "shards": [)" + shard("../x", "4", kHash) + "]}");
  expectLoadError(dir, {"shards[0].file", "plain file name"});
  writeManifest(dir, cls + R"("num_samples": 8, "shards": [)" + ok + ", " + ok + "]}");
  expectLoadError(dir, {"shards[1].file", "repeats"});
  writeManifest(dir, cls + R"("num_samples": 4, "shards": [{"file": "shard-00000.safetensors", "sha256": ")" + kHash + "\"}]}");
  expectLoadError(dir, {"shards[0]", "missing field 'num_samples'"});
  writeManifest(dir, cls + R"("num_samples": 4, "shards": [)" + ok + "]}");
  EXPECT_EQ(DatasetManifest::load(dir.str()).num_samples, 4u);
}

TEST(DatasetManifest, SaveValidates) {
  ScratchDir dir;
  DatasetManifest m = threeShards(dir);
  m.num_samples = 11;
  EXPECT_THROW(m.save(), Error);
}

}  // namespace
}  // namespace distill::data
