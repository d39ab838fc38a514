// A prepared dataset (dataset.json + safetensors shards, see docs/data.md),
// memory-mapped, from which a worker gathers the batches the coordinator
// assigns by global sample index.
//
//   auto ds = data::ShardedDataset::open("data/train");   // checks sha256 and shapes
//   data::Batch b = ds.gather({0, 17, 1024});              // rows copied out of the maps
//   // b.input_ids [3,T] int64, b.attention_mask [3,T] int64, b.labels [3] or [3,T] int64
#pragma once

#include <ATen/core/Tensor.h>  // lighter than <torch/torch.h>; enough for Batch

#include <cstdint>
#include <string>
#include <vector>

#include "common/dataset_manifest.h"
#include "common/safetensors.h"

namespace distill::data {

// One batch, in the dtypes the models take: all int64, on the CPU.
struct Batch {
  at::Tensor input_ids;       // [B, T]
  at::Tensor attention_mask;  // [B, T], 1 = real token, 0 = padding
  at::Tensor labels;          // [B] (classification) or [B, T] (per token, -100 = ignore)
  // The same batch on `device` (a copy only when it is not there already).
  Batch to(const c10::Device& device) const {
    return {input_ids.to(device), attention_mask.to(device), labels.to(device)};
  }
  // Rows [start, start + length): views, no copy (a micro-batch).
  Batch rows(int64_t start, int64_t length) const {
    return {input_ids.narrow(0, start, length), attention_mask.narrow(0, start, length),
            labels.narrow(0, start, length)};
  }
};

class ShardedDataset {
 public:
  // Loads the manifest, verifies each shard's sha256 against it (unless
  // verify_checksums is false: reading every byte costs time on large
  // datasets), checks every shard's shapes and values. Throws distill::Error
  // naming the shard file on a mismatch.
  static ShardedDataset open(const std::string& dir, bool verify_checksums = true);

  // The rows of the given global sample indices, in that order (repeats allowed).
  // Throws distill::Error for an index >= num_samples, and naming the shard
  // when its file changed since open (size, inode or modification time) or
  // cannot be read.
  Batch gather(const std::vector<uint64_t>& global_indices) const;

  const DatasetManifest& manifest() const { return manifest_; }
  uint64_t size() const { return manifest_.num_samples; }
  bool perTokenLabels() const { return !manifest_.isClassification(); }

 private:
  // Every shard holds input_ids I32 [n,T], attention_mask U8 [n,T] and labels
  // I64 [n] (classification, values in [0,C)) or [n,T] (per token), with n and
  // T as the manifest says.
  void checkShapes(const std::vector<safetensors::File>& shards) const;

  DatasetManifest manifest_;
  // Where one shard's rows are in its file, and what the file was when the
  // dataset was opened: gather reads the rows with pread (a file truncated
  // or replaced during training is then named, where reading a memory map
  // would kill the process with SIGBUS).
  struct ShardFile {
    std::string path;
    uint64_t size = 0, inode = 0;
    int64_t mtime_ns = 0;
    size_t input_ids = 0, attention_mask = 0, labels = 0;  // byte offsets in the file
  };
  std::vector<ShardFile> files_;
  std::vector<uint64_t> starts_;           // global index of each shard's first row, + total
};



}  // namespace distill::data
