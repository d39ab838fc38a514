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
  // datasets), maps every shard and checks its shapes. Throws distill::Error
  // naming the shard file on a mismatch.
  static ShardedDataset open(const std::string& dir, bool verify_checksums = true);

  // The rows of the given global sample indices, in that order (repeats allowed).
  // Throws distill::Error for an index >= num_samples.
  Batch gather(const std::vector<uint64_t>& global_indices) const;

  const DatasetManifest& manifest() const { return manifest_; }
  uint64_t size() const { return manifest_.num_samples; }
  bool perTokenLabels() const { return !manifest_.isClassification(); }

 private:
  // Every shard holds input_ids I32 [n,T], attention_mask U8 [n,T] and labels
  // I64 [n] (classification, values in [0,C)) or [n,T] (per token), with n and
  // T as the manifest says.
  void checkShapes() const;

  DatasetManifest manifest_;
  // Views into one shard's maps, looked up once (they stay valid while the
  // File, or any copy of it, lives).
  struct ShardViews {
    safetensors::TensorView input_ids, attention_mask, labels;
  };
  std::vector<safetensors::File> shards_;  // kept open: gather reads the maps
  std::vector<ShardViews> views_;
  std::vector<uint64_t> starts_;           // global index of each shard's first row, + total
};



}  // namespace distill::data
