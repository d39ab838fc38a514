#include "trainer/data/dataset.h"

#include <torch/torch.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

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

// One shard file opened for one gather: checked to be the file the dataset
// opened (same size, inode and modification time), then read with pread.
class ShardReader {
 public:
  ShardReader(const std::string& path, uint64_t size, uint64_t inode, int64_t mtime_ns) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    DISTILL_CHECK(fd_ >= 0, path, ": cannot open the shard during training: ", std::strerror(errno),
                  " (was it removed? the job stops at its last checkpoint)");
    struct stat st {};
    const bool same = ::fstat(fd_, &st) == 0 && static_cast<uint64_t>(st.st_size) == size &&
                      static_cast<uint64_t>(st.st_ino) == inode &&
                      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec == mtime_ns;
    if (!same) {
      ::close(fd_);
      DISTILL_FAIL(path, ": the shard changed while the job was reading it (", size, " bytes when opened, now ",
                   static_cast<uint64_t>(st.st_size), ", or replaced or rewritten): datasets must not change during "
                   "a job; restore it (its sha256 is in dataset.json) and resume from the last checkpoint");
    }
  }
  ShardReader(ShardReader&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) { other.fd_ = -1; }
  ShardReader(const ShardReader&) = delete;
  ~ShardReader() {
    if (fd_ >= 0) ::close(fd_);
  }
  void read(void* out, size_t offset, size_t bytes, const char* tensor, size_t row) const {
    auto* at = static_cast<uint8_t*>(out);
    while (bytes > 0) {
      const ssize_t n = ::pread(fd_, at, bytes, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      DISTILL_CHECK(n > 0, path_, ": cannot read ", tensor, " row ", row, ": ",
                    n == 0 ? std::string("the file ends early (truncated during the job?)") : std::strerror(errno));
      at += n;
      offset += static_cast<size_t>(n);
      bytes -= static_cast<size_t>(n);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

ShardedDataset ShardedDataset::open(const std::string& dir, bool verify_checksums) {
  ShardedDataset ds;
  ds.manifest_ = DatasetManifest::load(dir);
  if (verify_checksums) verifyShardChecksums(ds.manifest_);
  std::vector<safetensors::File> shards;  // mapped only to check them here
  for (size_t i = 0; i < ds.manifest_.shards.size(); ++i) {
    const std::string path = ds.manifest_.shardPath(i);
    ShardFile file;
    file.path = path;
    struct stat st {};
    DISTILL_CHECK(::stat(path.c_str(), &st) == 0, path, ": cannot stat: ", std::strerror(errno));
    file.size = static_cast<uint64_t>(st.st_size);
    file.inode = static_cast<uint64_t>(st.st_ino);
    file.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    shards.push_back(safetensors::File::open(path));
    ds.files_.push_back(file);
  }
  ds.starts_ = ds.manifest_.shardStarts();
  ds.checkShapes(shards);
  for (size_t i = 0; i < shards.size(); ++i) {
    ds.files_[i].input_ids = shards[i].fileOffset(kInputIds);
    ds.files_[i].attention_mask = shards[i].fileOffset(kAttentionMask);
    ds.files_[i].labels = shards[i].fileOffset(kLabels);
  }
  return ds;
}

void ShardedDataset::checkShapes(const std::vector<safetensors::File>& shards) const {
  const int64_t T = manifest_.seq_len;
  for (size_t s = 0; s < shards.size(); ++s) {
    const safetensors::File& shard = shards[s];
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
  std::vector<uint8_t> mask_row(T);

  std::map<size_t, ShardReader> readers;  // the shards this batch reads, each opened once
  for (int64_t b = 0; b < B; ++b) {
    const uint64_t index = global_indices[b];
    DISTILL_CHECK(index < manifest_.num_samples, manifest_.dir, ": sample index ", index,
                  " is out of range (", manifest_.num_samples, " samples)");
    const size_t s = size_t(std::upper_bound(starts_.begin(), starts_.end(), index) - starts_.begin()) - 1;
    const size_t row = size_t(index - starts_[s]);
    const ShardFile& file = files_[s];
    auto it = readers.find(s);
    if (it == readers.end()) it = readers.emplace(s, ShardReader(file.path, file.size, file.inode, file.mtime_ns)).first;
    const ShardReader& reader = it->second;

    reader.read(id_row.data(), file.input_ids + row * T * sizeof(int32_t), T * sizeof(int32_t), "input_ids", row);
    reader.read(mask_row.data(), file.attention_mask + row * T, T, "attention_mask", row);
    for (int64_t t = 0; t < T; ++t) {
      ids_out[b * T + t] = id_row[t];
      mask_out[b * T + t] = mask_row[t];
    }
    reader.read(labels_out + b * label_width, file.labels + row * label_width * sizeof(int64_t),
                label_width * sizeof(int64_t), "labels", row);
  }
  return batch;
}

}  // namespace distill::data
