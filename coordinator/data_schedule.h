// The data ledger's plan: which samples each worker trains on at each step.
//
// Every epoch has its own order, a pure function of (seed, epoch): the shard
// order is shuffled, then the samples inside each shard, and the shards are
// concatenated (so a worker reads mostly from one mmapped shard at a time).
//
// A schedule covers one run segment: the steps a job runs with one global
// batch (batch_size * workers), starting at a ledger position (step, epoch,
// offset into that epoch's order). Step s of the segment takes the global batch
// that starts at offset + (s - start step) * global batch; worker w gets the
// w-th slice of batch_size. A remainder shorter than a global batch at the end
// of an epoch is dropped and the next epoch starts at offset 0. A job resumed
// on another worker count is a new segment that starts where the checkpoint's
// ledger stopped (docs/checkpoints.md), so the samples of an epoch are never
// seen twice or skipped, whatever the worker counts. Because the order does not
// depend on the number of workers, 2 workers with batch b see exactly the
// samples that 1 worker with batch 2b sees. A plain class without MPI, tested
// directly.
//
//   DataSchedule plan({120, 80}, /*seed=*/7, /*workers=*/2, /*batch_size=*/16);
//   std::vector<uint64_t> ids = plan.samples(/*step=*/3, /*worker=*/1);
//   DataSchedule resumed({120, 80}, 7, /*workers=*/3, 16, plan.position(5));
//   uint64_t total = resumed.stepsForEpochs(2);   // the job's step count at 3 workers
#pragma once

#include <cstdint>
#include <vector>

namespace distill::coordinator {

// Where the ledger stands before a step: that step's global batch starts at
// sample `offset` of epoch `epoch`'s order.
struct LedgerPosition {
  uint64_t step = 0;
  uint64_t epoch = 0;
  uint64_t offset = 0;

  bool operator==(const LedgerPosition& o) const {
    return step == o.step && epoch == o.epoch && offset == o.offset;
  }
  bool operator!=(const LedgerPosition& o) const { return !(*this == o); }
};

class DataSchedule {
 public:
  // A segment that starts at `start` (step 0 of epoch 0 for a fresh job). An
  // `offset` with less than one global batch left in its epoch means the next
  // epoch, from its first sample.
  DataSchedule(std::vector<uint64_t> shard_sizes, uint64_t seed, int num_workers, uint64_t batch_size,
               LedgerPosition start = {});

  uint64_t numSamples() const { return num_samples_; }
  // Steps of a whole epoch at this segment's global batch.
  uint64_t stepsPerEpoch() const { return steps_per_epoch_; }
  uint64_t globalBatch() const { return batch_size_ * static_cast<uint64_t>(num_workers_); }
  // The first step of this segment, with where its batch starts (an offset at
  // the end of an epoch already moved to the next epoch).
  const LedgerPosition& start() const { return start_; }
  // Where the global batch of `step` starts (step >= start().step). For the
  // step after the last one, where the next batch would start: what a
  // checkpoint of that step records.
  LedgerPosition position(uint64_t step) const;
  uint64_t epochOf(uint64_t step) const { return position(step).epoch; }
  // The job's total step count when it trains `epochs` epochs: this segment's
  // steps to the end of its first epoch (the rest of that epoch at this global
  // batch), plus whole epochs. The start step when `epochs` are done already.
  uint64_t stepsForEpochs(uint64_t epochs) const;
  // Global sample indices that `worker` trains on at `step` (0-based, >= start().step).
  std::vector<uint64_t> samples(uint64_t step, int worker);
  // The whole order of an epoch (every sample once).
  std::vector<uint64_t> epochOrder(uint64_t epoch) const;

 private:
  std::vector<uint64_t> shard_sizes_;
  std::vector<uint64_t> shard_offsets_;
  uint64_t seed_;
  int num_workers_;
  uint64_t batch_size_;
  uint64_t num_samples_ = 0;
  uint64_t steps_per_epoch_ = 0;
  LedgerPosition start_;
  uint64_t steps_in_first_epoch_ = 0;  // from start_ to the end of start_.epoch
  uint64_t cached_epoch_ = UINT64_MAX;
  std::vector<uint64_t> cached_order_;
};

}  // namespace distill::coordinator
