// Writes a dataset directory (see docs/data.md) one sample at a time:
// samples are buffered, every `samples_per_shard` of them become one
// safetensors shard, and finish() writes dataset.json with the counts and
// sha256 of every shard. Used by prepare-data (JSONL) and the synthetic tasks.
//
//   ShardWriter out("data/train", /*seq_len=*/24, /*per_token_labels=*/false, 1024);
//   out.add(ids, mask, {label});                 // ids and mask hold seq_len entries
//   DatasetManifest m = out.finish("classification", /*num_classes=*/6, /*vocab_size=*/64);
//
// dataset.json is the commit point: the constructor removes an old one, so a
// crash half-way never leaves a manifest that points at half-written shards.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/dataset_manifest.h"

namespace distill::data {

class ShardWriter {
 public:
  // Creates out_dir if needed and removes out_dir/dataset.json.
  ShardWriter(std::string out_dir, int64_t seq_len, bool per_token_labels,
              uint64_t samples_per_shard);

  // Written into every shard's __metadata__ (where the data came from).
  void setMetadata(const std::string& key, const std::string& value) { metadata_[key] = value; }

  // One sample: input_ids and attention_mask of seq_len entries, labels of 1
  // (classification) or seq_len (per token) entries.
  void add(const std::vector<int32_t>& input_ids, const std::vector<uint8_t>& attention_mask,
           const std::vector<int64_t>& labels);

  uint64_t numSamples() const { return total_; }

  // Writes the last shard and dataset.json, removes shard files of an earlier
  // run that the new manifest does not list, and returns the manifest.
  // Throws distill::Error when no sample was added.
  DatasetManifest finish(const std::string& task, int64_t num_classes, int64_t vocab_size);

 private:
  void flush();

  std::string out_dir_;
  int64_t seq_len_;
  bool per_token_labels_;
  uint64_t samples_per_shard_;
  std::map<std::string, std::string> metadata_;
  std::vector<int32_t> input_ids_;
  std::vector<uint8_t> attention_mask_;
  std::vector<int64_t> labels_;
  uint64_t buffered_ = 0;
  uint64_t total_ = 0;
  std::vector<ShardInfo> shards_;
};

// Pads (with pad_id) or truncates tokens to seq_len; returns the ids and the
// attention mask (1 on real tokens, 0 on padding).
void padOrTruncate(const std::vector<int64_t>& tokens, int64_t seq_len, int32_t pad_id,
                   std::vector<int32_t>* input_ids, std::vector<uint8_t>* attention_mask);

}  // namespace distill::data
