#include "trainer/teachers/teacher_cache.h"

#include <cstring>
#include <filesystem>

#include <torch/torch.h>

#include "common/error.h"
#include "common/teacher_cache_layout.h"
#include "trainer/data/tensor_io.h"

namespace distill::teachers {
namespace fs = std::filesystem;

void writeCacheShard(const std::string& dir, size_t shard, const TopK& rows, int64_t vocab) {
  fs::create_directories(dir);
  data::saveTensors((fs::path(dir) / teacher_cache::shardFile(shard)).string(),
                    {{"log_probs", rows.log_probs.to(torch::kFloat16)},
                     {"indices", rows.indices.to(torch::kInt32)},
                     {"residual", rows.residual.to(torch::kFloat)}},
                    {{"vocab", std::to_string(vocab)}});
}

int64_t shardVocab(const std::string& dir, size_t shard) {
  const std::string path = (fs::path(dir) / teacher_cache::shardFile(shard)).string();
  const auto file = safetensors::File::open(path);
  const auto it = file.metadata().find("vocab");
  DISTILL_CHECK(it != file.metadata().end(), path, ": no \"vocab\" in the metadata: not a teacher cache shard");
  return std::stoll(it->second);
}

TeacherCache TeacherCache::open(const std::string& dir, const data::DatasetManifest& manifest) {
  TeacherCache c;
  c.dir_ = dir;
  c.manifest_ = manifest;
  c.vocab_ = teacher_cache::cachedVocab(dir);
  c.positions_ = manifest.isClassification() ? 1 : manifest.seq_len;
  for (size_t i = 0; i < manifest.shards.size(); ++i) {
    const std::string path = (fs::path(dir) / teacher_cache::shardFile(i)).string();
    DISTILL_CHECK(fs::exists(path), path, ": missing from a teacher cache whose cache.json lists it");
    safetensors::File file = safetensors::File::open(path);
    Views v{file.get("log_probs"), file.get("indices"), file.get("residual")};
    const int64_t n = static_cast<int64_t>(manifest.shards[i].num_samples);
    const size_t rank = manifest.isClassification() ? 2 : 3;
    DISTILL_CHECK(v.log_probs.dtype == safetensors::DType::F16 && v.indices.dtype == safetensors::DType::I32 &&
                      v.residual.dtype == safetensors::DType::F32,
                  path, ": expected log_probs F16, indices I32, residual F32");
    DISTILL_CHECK(v.log_probs.shape.size() == rank && v.log_probs.shape[0] == n &&
                      (rank == 2 || v.log_probs.shape[1] == c.positions_) && v.indices.shape == v.log_probs.shape,
                  path, ": log_probs/indices of shape [", v.log_probs.shape.empty() ? 0 : v.log_probs.shape[0],
                  ", ...] do not match the dataset's ", n, " samples", rank == 3 ? " of " : "",
                  rank == 3 ? std::to_string(c.positions_) + " tokens" : "");
    const std::vector<int64_t> per_position(v.log_probs.shape.begin(), v.log_probs.shape.end() - 1);
    DISTILL_CHECK(v.residual.shape == per_position, path, ": residual does not match log_probs (a damaged file?)");
    const int64_t k = v.log_probs.shape.back();
    DISTILL_CHECK(k <= c.vocab_, path, ": k ", k, " exceeds the teacher's ", c.vocab_, " outputs");
    DISTILL_CHECK(c.k_ == 0 || k == c.k_, path, ": k ", k, " differs from the other shards' ", c.k_);
    c.k_ = k;
    c.files_.push_back(std::move(file));
    c.views_.push_back(v);
  }
  return c;
}

TopK TeacherCache::gather(const std::vector<uint64_t>& samples) const {
  const auto n = static_cast<int64_t>(samples.size());
  std::vector<int64_t> shape = {n};
  if (positions_ > 1 || !manifest_.isClassification()) shape.push_back(positions_);
  std::vector<int64_t> with_k = shape;
  with_k.push_back(k_);
  torch::Tensor log_probs = torch::empty(with_k, torch::kFloat16);
  torch::Tensor indices = torch::empty(with_k, torch::kInt32);
  torch::Tensor residual = torch::empty(shape, torch::kFloat);
  const size_t row_entries = static_cast<size_t>(positions_ * k_);
  for (int64_t i = 0; i < n; ++i) {
    const auto [shard, row] = manifest_.locate(samples[static_cast<size_t>(i)]);
    const Views& v = views_[shard];
    std::memcpy(static_cast<uint8_t*>(log_probs.data_ptr()) + i * row_entries * 2, v.log_probs.data + row * row_entries * 2,
                row_entries * 2);
    std::memcpy(static_cast<uint8_t*>(indices.data_ptr()) + i * row_entries * 4, v.indices.data + row * row_entries * 4,
                row_entries * 4);
    std::memcpy(static_cast<uint8_t*>(residual.data_ptr()) + i * positions_ * 4, v.residual.data + row * positions_ * 4,
                static_cast<size_t>(positions_) * 4);
  }
  return {log_probs.to(torch::kFloat), indices, residual};
}

}  // namespace distill::teachers
