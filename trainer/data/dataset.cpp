#include "trainer/data/dataset.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "common/sha256.h"

namespace distill::data {
namespace {

using safetensors::DType;
using safetensors::TensorView;

constexpr const char* kInputIds = "input_ids";
constexpr const char* kAttentionMask = "attention_mask";
constexpr const char* kLabels = "labels";
constexpr int64_t kIgnoreLabel = -100;

std::string shapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void expectTensor(const safetensors::File& shard, const char* name, DType dtype,
                  const std::vector<int64_t>& shape) {
  DISTILL_CHECK(shard.has(name), shard.path(), ": missing tensor '", name, "'");
  TensorView v = shard.get(name);
  DISTILL_CHECK(v.dtype == dtype, shard.path(), ": tensor '", name, "' has dtype ",
                safetensors::dtypeName(v.dtype), ", expected ", safetensors::dtypeName(dtype));
  DISTILL_CHECK(v.shape == shape, shard.path(), ": tensor '", name, "' has shape ",
                shapeString(v.shape), ", expected ", shapeString(shape),
                " (samples and seq_len from dataset.json)");
}

// Element i of a tensor whose data may be unaligned (files from elsewhere).
template <typename T>
T element(const TensorView& v, size_t i) {
  T value;
  std::memcpy(&value, v.data + i * sizeof(T), sizeof(T));
  return value;
}

}  // namespace

ShardedDataset ShardedDataset::open(const std::string& dir, bool verify_checksums) {
  ShardedDataset ds;
  ds.manifest_ = DatasetManifest::load(dir);
  if (verify_checksums) verifyShardChecksums(ds.manifest_);
  for (size_t i = 0; i < ds.manifest_.shards.size(); ++i)
    ds.shards_.push_back(safetensors::File::open(ds.manifest_.shardPath(i)));
  ds.starts_ = ds.manifest_.shardStarts();
  ds.checkShapes();
  for (const auto& shard : ds.shards_)
    ds.views_.push_back({shard.get(kInputIds), shard.get(kAttentionMask), shard.get(kLabels)});
  return ds;
}

void ShardedDataset::checkShapes() const {
  const int64_t T = manifest_.seq_len;
  for (size_t s = 0; s < shards_.size(); ++s) {
    const safetensors::File& shard = shards_[s];
    const auto n = int64_t(manifest_.shards[s].num_samples);
    expectTensor(shard, kInputIds, DType::I32, {n, T});
    expectTensor(shard, kAttentionMask, DType::U8, {n, T});
    expectTensor(shard, kLabels, DType::I64,
                 manifest_.isClassification() ? std::vector<int64_t>{n} : std::vector<int64_t>{n, T});

    // Values too: an out-of-range id would otherwise fail deep inside an
    // embedding or a loss, far from the file that holds it.
    TensorView ids = shard.get(kInputIds), mask = shard.get(kAttentionMask), labels = shard.get(kLabels);
    for (size_t i = 0; i < size_t(n * T); ++i) {
      int32_t id = element<int32_t>(ids, i);
      DISTILL_CHECK(id >= 0 && id < manifest_.vocab_size, shard.path(), ": input_ids row ", i / T,
                    " holds token id ", id, ", outside the vocabulary [0, ", manifest_.vocab_size, ")");
      DISTILL_CHECK(mask.data[i] <= 1, shard.path(), ": attention_mask row ", i / T,
                    " holds ", int(mask.data[i]), "; only 0 and 1 are allowed");
    }
    const int64_t label_bound = manifest_.isClassification() ? manifest_.num_classes : manifest_.vocab_size;
    for (size_t i = 0; i < labels.nbytes / sizeof(int64_t); ++i) {
      int64_t label = element<int64_t>(labels, i);
      DISTILL_CHECK((label >= 0 && label < label_bound) || (perTokenLabels() && label == kIgnoreLabel),
                    shard.path(), ": labels row ", perTokenLabels() ? i / T : i, " holds ", label,
                    ", outside [0, ", label_bound, ")", perTokenLabels() ? " and not -100" : "");
    }
  }
}

Batch ShardedDataset::gather(const std::vector<uint64_t>& global_indices) const {
  const int64_t B = int64_t(global_indices.size());
  const int64_t T = manifest_.seq_len;
  Batch batch;
  batch.input_ids = torch::empty({B, T}, torch::kInt64);
  batch.attention_mask = torch::empty({B, T}, torch::kInt64);
  batch.labels = perTokenLabels() ? torch::empty({B, T}, torch::kInt64) : torch::empty({B}, torch::kInt64);
  int64_t* ids_out = batch.input_ids.data_ptr<int64_t>();
  int64_t* mask_out = batch.attention_mask.data_ptr<int64_t>();
  int64_t* labels_out = batch.labels.data_ptr<int64_t>();
  const size_t label_width = perTokenLabels() ? size_t(T) : 1;
  std::vector<int32_t> id_row(T);

  for (int64_t b = 0; b < B; ++b) {
    const uint64_t index = global_indices[b];
    DISTILL_CHECK(index < manifest_.num_samples, manifest_.dir, ": sample index ", index,
                  " is out of range (", manifest_.num_samples, " samples)");
    const size_t s = size_t(std::upper_bound(starts_.begin(), starts_.end(), index) - starts_.begin()) - 1;
    const size_t row = size_t(index - starts_[s]);
    const ShardViews& shard = views_[s];

    std::memcpy(id_row.data(), shard.input_ids.data + row * T * sizeof(int32_t), T * sizeof(int32_t));
    const uint8_t* mask = shard.attention_mask.data + row * T;
    for (int64_t t = 0; t < T; ++t) {
      ids_out[b * T + t] = id_row[t];
      mask_out[b * T + t] = mask[t];
    }
    std::memcpy(labels_out + b * label_width,
                shard.labels.data + row * label_width * sizeof(int64_t),
                label_width * sizeof(int64_t));
  }
  return batch;
}

}  // namespace distill::data
