// The manifest of a prepared dataset: `dataset.json` next to its safetensors
// shards (see docs/data.md). No LibTorch: the coordinator plans the data
// ledger from it without reading any shard.
//
//   auto m = data::DatasetManifest::load("data/train");  // validated
//   auto [shard, row] = m.locate(12345);                  // global sample index
//   std::string file = m.shardPath(shard);                // "data/train/shard-00001.safetensors"
//
// dataset.json:
//   {"format": "distill-dataset/1", "task": "classification", "num_classes": 6,
//    "vocab_size": 64, "seq_len": 24, "num_samples": 3000,
//    "shards": [{"file": "shard-00000.safetensors", "num_samples": 1024, "sha256": "..."}, ...]}
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace distill::data {

// The format tag written into and required from every dataset.json.
inline constexpr const char* kDatasetFormat = "distill-dataset/1";
inline constexpr const char* kManifestFile = "dataset.json";
inline constexpr const char* kTaskClassification = "classification";
inline constexpr const char* kTaskLanguageModeling = "language_modeling";

// File name of shard i: "shard-00000.safetensors".
std::string shardFileName(size_t index);

struct ShardInfo {
  std::string file;  // relative to the dataset directory
  uint64_t num_samples = 0;
  std::string sha256;  // 64 lowercase hex characters of the whole file
};

struct DatasetManifest {
  std::string dir;   // the dataset directory (not stored in the file)
  std::string task;  // kTaskClassification or kTaskLanguageModeling
  int64_t num_classes = 0;  // classification only; 0 otherwise
  int64_t vocab_size = 0;
  int64_t seq_len = 0;
  uint64_t num_samples = 0;
  std::vector<ShardInfo> shards;

  // Reads and validates dir/dataset.json: format tag, task, positive sizes,
  // shard counts adding up to num_samples, shard files present. Throws
  // distill::Error naming dataset.json and the field.
  static DatasetManifest load(const std::string& dir);
  // Validates, then writes dir/dataset.json atomically.
  void save() const;
  // Checks the fields (not the files); throws naming `where` and the field.
  void validate(const std::string& where) const;

  bool isClassification() const { return task == kTaskClassification; }
  // Path of shard i: dir + "/" + shards[i].file.
  std::string shardPath(size_t index) const;
  // Global sample index -> (shard index, row inside that shard).
  // Throws distill::Error when index >= num_samples.
  std::pair<size_t, uint64_t> locate(uint64_t index) const;
  // Global index of the first sample of every shard, plus num_samples at the end.
  std::vector<uint64_t> shardStarts() const;
};

// Recomputes the sha256 of every shard and compares it with the manifest;
// throws distill::Error naming the first shard that differs.
void verifyShardChecksums(const DatasetManifest& manifest);

}  // namespace distill::data
