// A teacher's cached top-k outputs (top_k.h) over a whole dataset: written
// shard by shard by the teacher pass (cache_pass.h), read by samples in
// training. The directory layout, key and completeness are
// common/teacher_cache_layout.h's.
//
//   teachers::writeCacheShard(dir, 3, top_k_of_shard_3);
//   auto cache = teachers::TeacherCache::open(dir, manifest);    // every shard mapped
//   teachers::TopK rows = cache.gather({17, 4, 1022});            // [3, (T,) k]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/dataset_manifest.h"
#include "common/safetensors.h"
#include "trainer/teachers/top_k.h"

namespace distill::teachers {

// Writes the cache file of dataset shard `shard` (whole, via a temporary file):
// log_probs as float16, indices int32, residual float32, and the teacher's
// output width `vocab` in the file's metadata.
void writeCacheShard(const std::string& dir, size_t shard, const TopK& rows, int64_t vocab);

// The output width written into a cache shard file.
int64_t shardVocab(const std::string& dir, size_t shard);

class TeacherCache {
 public:
  // Maps every shard file of a complete cache (cache.json present) and checks
  // each against the dataset: sample count, sequence length and k. Throws
  // distill::Error naming the file.
  static TeacherCache open(const std::string& dir, const data::DatasetManifest& manifest);

  // The cached rows of these global sample indices, in order: log_probs
  // float32, indices int32 [n, (T,) k], residual float32 [n, (T)].
  TopK gather(const std::vector<uint64_t>& samples) const;

  int64_t vocab() const { return vocab_; }  // the teacher's output width
  int64_t topK() const { return k_; }
  // Bytes on disk per cached position (a token, or a sample for classification).
  int64_t bytesPerPosition() const { return k_ * (2 + 4) + 4; }
  const std::string& dir() const { return dir_; }

 private:
  struct Views {
    safetensors::TensorView log_probs, indices, residual;
  };
  std::string dir_;
  data::DatasetManifest manifest_;
  int64_t vocab_ = 0, k_ = 0, positions_ = 1;  // positions_: T per sample, or 1
  std::vector<safetensors::File> files_;
  std::vector<Views> views_;
};

}  // namespace distill::teachers
