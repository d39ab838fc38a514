// `distill prepare-data`: turns tokenized JSONL into a dataset directory
// (safetensors shards + dataset.json, see docs/data.md), or writes one of the
// synthetic tasks (trainer/data/synthetic_task.h).
//
//   data::PrepareOptions opt;
//   opt.seq_len = 128;
//   data::prepareFromJsonl("train.jsonl", "data/train", opt);
//
// Each JSONL line is one sample, either
//   {"input_ids": [5, 17, 3], "label": 2}                  (classification)
//   {"input_ids": [5, 17, 3], "labels": [17, 3, -100]}     (per token, -100 = ignore)
// All lines of a file must be of the same kind; blank lines are skipped.
#pragma once

#include <cstdint>
#include <string>

#include "common/dataset_manifest.h"
#include "trainer/data/synthetic_task.h"

namespace distill::data {

struct PrepareOptions {
  // Every sample is padded (pad_id, attention mask 0) or truncated (the first
  // seq_len tokens are kept) to this length.
  int64_t seq_len = 128;
  uint64_t samples_per_shard = 4096;
  // 0: max token id + 1. When set, larger ids are an error.
  int64_t vocab_size = 0;
  // Classification only. 0: max label + 1. When set, larger labels are an error.
  int64_t num_classes = 0;
  int32_t pad_id = 0;
};

// Reads `jsonl` and writes the dataset into out_dir. Throws distill::Error
// naming the JSONL file and line number for a malformed sample.
DatasetManifest prepareFromJsonl(const std::string& jsonl, const std::string& out_dir,
                                 const PrepareOptions& options);

}  // namespace distill::data
