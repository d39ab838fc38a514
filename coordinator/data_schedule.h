// The data ledger's plan: which samples each worker trains on at each step.
//
// Every epoch has its own order, a pure function of (seed, epoch): the shard
// order is shuffled, then the samples inside each shard, and the shards are
// concatenated (so a worker reads mostly from one mmapped shard at a time).
// Step s of the job takes the next global batch of batch_size * workers samples
// of its epoch's order; worker w gets the w-th slice of batch_size. A partial
// last batch is dropped. Because the order does not depend on the number of
// workers, 2 workers with batch b see exactly the samples that 1 worker with
// batch 2b sees. A plain class without MPI, tested directly.
//
//   DataSchedule plan({120, 80}, /*seed=*/7, /*workers=*/2, /*batch_size=*/16);
//   std::vector<uint64_t> ids = plan.samples(/*step=*/3, /*worker=*/1);
#pragma once

#include <cstdint>
#include <vector>

namespace distill::coordinator {

class DataSchedule {
 public:
  DataSchedule(std::vector<uint64_t> shard_sizes, uint64_t seed, int num_workers, uint64_t batch_size);

  uint64_t stepsPerEpoch() const { return steps_per_epoch_; }
  uint64_t globalBatch() const { return batch_size_ * static_cast<uint64_t>(num_workers_); }
  uint64_t epochOf(uint64_t step) const { return step / steps_per_epoch_; }
  // Global sample indices that `worker` trains on at `step` (0-based step).
  std::vector<uint64_t> samples(uint64_t step, int worker);
  // The whole order of an epoch (every sample once).
  std::vector<uint64_t> epochOrder(uint64_t epoch) const;

 private:
  std::vector<uint64_t> shard_sizes_;
  std::vector<uint64_t> shard_offsets_;
  uint64_t seed_;
  int num_workers_;
  uint64_t batch_size_;
  uint64_t steps_per_epoch_ = 0;
  uint64_t cached_epoch_ = UINT64_MAX;
  std::vector<uint64_t> cached_order_;
};

}  // namespace distill::coordinator
