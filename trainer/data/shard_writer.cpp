#include "trainer/data/shard_writer.h"

#include <algorithm>
#include <filesystem>

#include "common/atomic_write.h"
#include "common/error.h"
#include "common/safetensors.h"
#include "common/sha256.h"

namespace distill::data {

namespace fs = std::filesystem;
using safetensors::DType;

ShardWriter::ShardWriter(std::string out_dir, int64_t seq_len, bool per_token_labels,
                         uint64_t samples_per_shard)
    : out_dir_(std::move(out_dir)),
      seq_len_(seq_len),
      per_token_labels_(per_token_labels),
      samples_per_shard_(samples_per_shard) {
  DISTILL_CHECK(seq_len_ > 0, "prepare-data: seq_len must be positive, got ", seq_len_);
  DISTILL_CHECK(samples_per_shard_ > 0, "prepare-data: samples_per_shard must be positive");
  std::error_code ec;
  fs::create_directories(out_dir_, ec);
  DISTILL_CHECK(!ec && fs::is_directory(out_dir_), out_dir_, ": cannot create the output directory: ",
                ec.message());
  fs::remove(fs::path(out_dir_) / kManifestFile, ec);
  DISTILL_CHECK(!ec, out_dir_, "/", kManifestFile, ": cannot remove the old manifest: ", ec.message());
}

void ShardWriter::add(const std::vector<int32_t>& input_ids,
                      const std::vector<uint8_t>& attention_mask,
                      const std::vector<int64_t>& labels) {
  DISTILL_ASSERT(int64_t(input_ids.size()) == seq_len_ && int64_t(attention_mask.size()) == seq_len_);
  DISTILL_ASSERT(labels.size() == (per_token_labels_ ? size_t(seq_len_) : 1u));
  input_ids_.insert(input_ids_.end(), input_ids.begin(), input_ids.end());
  attention_mask_.insert(attention_mask_.end(), attention_mask.begin(), attention_mask.end());
  labels_.insert(labels_.end(), labels.begin(), labels.end());
  ++buffered_;
  ++total_;
  if (buffered_ == samples_per_shard_) flush();
}

void ShardWriter::flush() {
  if (buffered_ == 0) return;
  const auto n = int64_t(buffered_);
  safetensors::Writer w;
  w.add("input_ids", DType::I32, {n, seq_len_}, input_ids_.data(), input_ids_.size() * sizeof(int32_t));
  w.add("attention_mask", DType::U8, {n, seq_len_}, attention_mask_.data(), attention_mask_.size());
  w.add("labels", DType::I64, per_token_labels_ ? std::vector<int64_t>{n, seq_len_} : std::vector<int64_t>{n},
        labels_.data(), labels_.size() * sizeof(int64_t));
  for (const auto& [k, v] : metadata_) w.setMetadata(k, v);

  // Hash the bytes we write rather than re-reading the file.
  const std::vector<uint8_t> bytes = w.serialize();
  const std::string file = shardFileName(shards_.size());
  writeFileAtomically(out_dir_ + "/" + file, bytes.data(), bytes.size());
  shards_.push_back({file, buffered_, sha256Hex(bytes.data(), bytes.size())});
  input_ids_.clear();
  attention_mask_.clear();
  labels_.clear();
  buffered_ = 0;
}

DatasetManifest ShardWriter::finish(const std::string& task, int64_t num_classes, int64_t vocab_size) {
  DISTILL_CHECK(total_ > 0, out_dir_, ": no samples to write");
  flush();
  DatasetManifest m;
  m.dir = out_dir_;
  m.task = task;
  m.num_classes = num_classes;
  m.vocab_size = vocab_size;
  m.seq_len = seq_len_;
  m.num_samples = total_;
  m.shards = shards_;
  m.save();
  // Shards of an earlier, larger run in the same directory would confuse a
  // reader browsing the directory; the manifest is already committed.
  for (size_t i = shards_.size();; ++i) {
    std::error_code ec;
    if (!fs::remove(fs::path(out_dir_) / shardFileName(i), ec)) break;
  }
  return m;
}

void padOrTruncate(const std::vector<int64_t>& tokens, int64_t seq_len, int32_t pad_id,
                   std::vector<int32_t>* input_ids, std::vector<uint8_t>* attention_mask) {
  input_ids->assign(size_t(seq_len), pad_id);
  attention_mask->assign(size_t(seq_len), 0);
  const size_t n = std::min(tokens.size(), size_t(seq_len));
  for (size_t t = 0; t < n; ++t) {
    (*input_ids)[t] = int32_t(tokens[t]);
    (*attention_mask)[t] = 1;
  }
}

}  // namespace distill::data
