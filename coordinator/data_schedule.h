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
// With data selection (SubsetEpochs) every epoch after the first trains on a
// subset of data.train, kept_per_epoch samples (whole global batches) chosen
// by the coordinator at the end of the previous epoch (DataSelection). The
// subset's order is its sorted ids shuffled with the epoch's rng. Until an
// epoch's subset is set, its steps have no samples: selectionHorizon() is the
// first step the coordinator may not assign yet. A segment that starts inside
// a subset epoch (a resume) continues that epoch's recorded subset.
//
//   DataSchedule plan({120, 80}, /*seed=*/7, /*workers=*/2, /*batch_size=*/16);
//   std::vector<uint64_t> ids = plan.samples(/*step=*/3, /*worker=*/1);
//   DataSchedule resumed({120, 80}, 7, /*workers=*/3, 16, plan.position(5));
//   uint64_t total = resumed.stepsForEpochs(2);   // the job's step count at 3 workers
//
//   DataSchedule selective({120, 80}, 7, 2, 16, {}, SubsetEpochs{/*kept_per_epoch=*/64});
//   selective.setEpochSamples(1, ids_of_64_samples);   // before asking for epoch 1's steps
#pragma once

#include <cstdint>
#include <map>
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

// Data selection's shape of the epochs: epoch 0 takes every sample, every
// later epoch `kept_per_epoch` selected ones.
struct SubsetEpochs {
  // Samples of each epoch after the first, a positive multiple of the global
  // batch (DataSelection::keptPerEpoch); 0: no selection, every epoch takes every sample.
  uint64_t kept_per_epoch = 0;
  // The selected samples (increasing ids) of the start position's epoch when
  // that is an epoch after the first whose subset a checkpoint recorded; any
  // length. Empty: not selected yet (or epoch 0).
  std::vector<uint64_t> start_epoch_samples;
};

class DataSchedule {
 public:
  // A segment that starts at `start` (step 0 of epoch 0 for a fresh job). An
  // `offset` with less than one global batch left in its epoch means the next
  // epoch, from its first sample.
  DataSchedule(std::vector<uint64_t> shard_sizes, uint64_t seed, int num_workers, uint64_t batch_size,
               LedgerPosition start = {}, SubsetEpochs subsets = {});

  uint64_t numSamples() const { return num_samples_; }
  // Steps of a whole epoch of every sample at this segment's global batch (an
  // epoch after the first has fewer with data selection: see stepsForEpochs).
  uint64_t stepsPerEpoch() const { return steps_per_epoch_; }
  // Whether epochs after the first train on selected subsets.
  bool selecting() const { return subsets_.kept_per_epoch > 0; }
  uint64_t keptPerEpoch() const { return subsets_.kept_per_epoch; }
  // Samples in `epoch`'s order (>= start().epoch): all of them, or its subset.
  uint64_t epochSize(uint64_t epoch) const;
  // Whether `epoch`'s samples are known: always without selection; with it,
  // once its subset is set.
  bool hasSamples(uint64_t epoch) const;
  // The first epoch whose subset is not set yet (UINT64_MAX without selection).
  uint64_t nextUnselectedEpoch() const { return next_unselected_; }
  // Its first step: steps from here on have no samples until it is set.
  uint64_t selectionHorizon() const;
  // Sets the subset (increasing ids, kept_per_epoch of them) of
  // nextUnselectedEpoch(), which `epoch` must be.
  void setEpochSamples(uint64_t epoch, std::vector<uint64_t> ids);
  // The subset of a subset epoch whose samples are set (increasing ids).
  const std::vector<uint64_t>& epochSamples(uint64_t epoch) const;
  // Drops the subsets of epochs before `epoch`: no step left to assign or
  // checkpoint to record is in them.
  void forgetEpochsBefore(uint64_t epoch);
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
  // batch), plus whole epochs (kept_per_epoch / global batch steps each with
  // selection). The start step when `epochs` are done already. For `epochs`
  // past the start epoch it is also the first step of epoch `epochs`.
  uint64_t stepsForEpochs(uint64_t epochs) const;
  // Global sample indices that `worker` trains on at `step` (0-based,
  // >= start().step, in an epoch whose samples are known).
  std::vector<uint64_t> samples(uint64_t step, int worker);
  // The whole order of an epoch: every sample once, or its subset once.
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
  SubsetEpochs subsets_;
  std::map<uint64_t, std::vector<uint64_t>> epoch_samples_;  // subsets set so far, by epoch
  uint64_t next_unselected_ = UINT64_MAX;
  uint64_t steps_in_first_epoch_ = 0;  // from start_ to the end of start_.epoch
  uint64_t steps_per_later_epoch_ = 0;  // every epoch after start_.epoch
  uint64_t cached_epoch_ = UINT64_MAX;
  std::vector<uint64_t> cached_order_;
};

}  // namespace distill::coordinator
