// Where a teacher's cached top-k outputs live and how complete they are, without
// LibTorch: the coordinator plans the teacher pass from this; the workers
// write and read the tensors (trainer/teachers/teacher_cache.h).
//
// One cache per teacher, dataset and k, in a directory named by a digest of
// the three, so a changed teacher file, dataset or k never reads another's:
//
//   <distill.cache.dir, default <data.train>/teacher-cache>/<teacher name>-<digest>/
//     shard-00000.safetensors   log_probs F16, indices I32 [n, (T,) k], residual F32 [n, (T)]
//     ...                       one per dataset shard, each written whole (tmp + rename)
//     cache.json                last, when every shard is there: the key, k, vocabulary, shards
//
//   auto key = teacher_cache::keyFor("t0", "teachers/t0.pt", "data/train", 64);
//   std::string dir = teacher_cache::cacheDir(root, key);
//   auto missing = teacher_cache::missingShards(dir, manifest);   // what a pass must compute
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/dataset_manifest.h"

namespace distill::teacher_cache {

inline constexpr const char* kFormat = "distill-teacher-cache/1";
inline constexpr const char* kManifestFile = "cache.json";

struct Key {
  std::string teacher;         // the teacher's name in the job
  std::string teacher_sha256;  // of the teacher file
  std::string dataset_sha256;  // of the dataset's dataset.json (which holds every shard's sha256)
  int64_t top_k = 0;
  std::string digest() const;  // 16 hex characters of sha256 over the three
};

// Hashes the teacher file and the dataset manifest (reads the whole teacher file).
Key keyFor(const std::string& teacher, const std::string& teacher_path, const std::string& dataset_dir, int64_t top_k);

// distill.cache.dir, or <data.train>/teacher-cache.
std::string cacheRoot(const std::string& configured_dir, const std::string& train_dir);
std::string cacheDir(const std::string& root, const Key& key);  // root/<teacher>-<digest>

// Shard i of the cache: "shard-00000.safetensors", as the dataset's.
std::string shardFile(size_t index);

// True when dir/cache.json exists and records `key`; throws distill::Error
// naming the file when it records another key (a stale cache under this name).
bool complete(const std::string& dir, const Key& key);

// Dataset shards whose cache file is not in `dir` yet.
std::vector<size_t> missingShards(const std::string& dir, const data::DatasetManifest& manifest);

// Writes dir/cache.json (atomically): the key, k, the teacher's output width
// and the shards. Call when every shard file is written.
void writeManifest(const std::string& dir, const Key& key, const data::DatasetManifest& manifest, int64_t vocab);

// The teacher's output width recorded in dir/cache.json.
int64_t cachedVocab(const std::string& dir);

// Other caches of `teacher` under `root` (for naming stale ones in logs): "dir (k 32, teacher sha 1a2b...)".
std::vector<std::string> otherCaches(const std::string& root, const Key& key);

}  // namespace distill::teacher_cache
