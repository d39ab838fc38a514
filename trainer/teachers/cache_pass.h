// The teacher pass of placement "cache": one teacher over one dataset shard,
// in batches, in inference mode, its top-k outputs written as that shard's
// cache file (teacher_cache.h). Whole files only, so a pass killed mid-way
// leaves complete shards behind and the next one computes the rest.
//
//   const int64_t vocab = teachers::cacheShard(teacher, "t0", data, 3, spec, 32, device, dir);
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/script.h>

#include "trainer/data/dataset.h"

namespace distill::teachers {

// Returns the teacher's output width (vocabulary or classes). `heartbeat` is
// called after every batch (the coordinator's watchdog sees the worker alive).
int64_t cacheShard(torch::jit::Module& teacher, const std::string& name, const data::ShardedDataset& data,
                   size_t shard, int64_t top_k, int64_t batch_size, const c10::Device& device, const std::string& dir,
                   const std::function<void()>& heartbeat = [] {});

// Waits until every file exists (other workers' shards, worker 0's cache.json),
// calling heartbeat() about once a second so the coordinator's watchdog sees
// this worker alive; a worker that dies instead is named by the watchdog.
// False when `timeout_seconds` (> 0) passed first; 0 waits as long as it takes.
bool waitForFiles(const std::vector<std::string>& paths, const std::function<void()>& heartbeat,
                  double timeout_seconds = 0);

}  // namespace distill::teachers
