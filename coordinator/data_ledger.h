// The data ledger as it travels between runs of one job: every checkpoint's
// state.json records where the data stands (step, epoch, offset into that
// epoch's order), what produced it (global batch, worker count, every run
// segment so far) and what it was computed over (seed, dataset); a resumed run
// reads it back and continues from there (docs/checkpoints.md).
//
// A resume on another worker count starts a new run segment with the new
// global batch where the checkpoint's ledger stopped. What would make the
// samples before and after the resume disagree is refused, naming state.json
// and the field: another seed (another epoch order), another
// training.batch_size, another data.train, another
// training.data_selection.fraction (or selection turned on or off).
//
// With data selection the ledger also holds the per-sample scores
// (DataSelection) and makes each epoch's selection; state.json records the
// current epoch's subset and the scores as they stood at the checkpoint's step.
//
//   DataShape now{shard_sizes, seed, batch_size, workers, datasetDigest(manifest)};
//   DataLedger ledger = resume ? DataLedger::resume(dir + "/state.json", now) : DataLedger(now);
//   uint64_t total = ledger.totalSteps(max_steps, epochs);
//   auto ids = ledger.schedule().samples(step, worker);
//   nlohmann::json state = ledger.record(step);   // into the checkpoint's state.json
//
//   ledger.recordScores(step, samples, entropy);   // every worker's SampleScores
//   if (all steps before ledger.schedule().selectionHorizon() are scored) ledger.selectNextEpoch();
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "coordinator/data_schedule.h"
#include "coordinator/data_selection.h"

namespace distill::data {
struct DatasetManifest;
}

namespace distill::coordinator {

// What this run trains on and with: the inputs of the data order.
struct DataShape {
  std::vector<uint64_t> shard_sizes;  // samples per shard of data.train, in manifest order
  uint64_t seed = 0;
  uint64_t batch_size = 0;            // per worker
  int num_workers = 0;
  std::string dataset_digest;         // datasetDigest() of data.train
  double selection_fraction = 0;      // training.data_selection.fraction; 0: off
};

// What one data selection chose, for the log.
struct EpochSelection {
  uint64_t epoch = 0;          // the epoch selected for
  uint64_t first_step = 0;     // its first step; scores of steps before it ranked
  uint64_t kept = 0;
  uint64_t num_samples = 0;    // of data.train
  float min_entropy = 0;       // lowest entropy kept (+inf: only never-scored samples kept)
  uint64_t never_scored = 0;   // kept samples that had no score
};

// One run segment: from `start` on, steps take `global_batch` samples each.
struct LedgerSegment {
  LedgerPosition start;
  uint64_t global_batch = 0;
  int num_workers = 0;

  bool operator==(const LedgerSegment& o) const {
    return start == o.start && global_batch == o.global_batch && num_workers == o.num_workers;
  }
};

// SHA-256 over the shards' file names, sample counts and checksums in the
// manifest: equal exactly when data.train holds the same shards in the same order.
std::string datasetDigest(const data::DatasetManifest& manifest);

class DataLedger {
 public:
  // A job that starts at step 0: one segment, at epoch 0, offset 0.
  explicit DataLedger(DataShape shape);
  // Continues the ledger recorded in a checkpoint's `state_file`. The same
  // worker count continues the checkpoint's segment (the same samples as a run
  // that was never stopped); another count starts a new one. Throws
  // distill::Error naming the file and the field when the seed, the batch
  // size, the dataset or the data selection fraction changed, or a field is
  // missing. With data selection it restores the subset of the checkpoint's
  // epoch and the scores.
  static DataLedger resume(const std::string& state_file, DataShape shape);

  DataSchedule& schedule() { return schedule_; }
  const DataSchedule& schedule() const { return schedule_; }
  // Every segment of the job so far, oldest first; the last one is this run's.
  const std::vector<LedgerSegment>& segments() const { return segments_; }
  // Workers that wrote the checkpoint resumed from; 0 for a job that starts fresh.
  int resumedWorkers() const { return resumed_workers_; }
  // The job's step count: max_steps when set (whatever the worker count), else
  // the steps that finish `epochs` epochs from where this segment starts.
  uint64_t totalSteps(uint64_t max_steps, uint64_t epochs) const;
  // Samples trained on from step 0 up to `step` (this segment's steps and every earlier segment's).
  uint64_t samplesConsumed(uint64_t step) const;
  // The ledger's fields of state.json for a checkpoint of `step` (>= the segment's start).
  nlohmann::json record(uint64_t step) const;

  // Whether training.data_selection is on.
  bool selecting() const { return selection_.has_value(); }
  // Records one worker's SampleScores message. Throws distill::Error naming
  // the step when it does not fit data.train (DataSelection::record).
  void recordScores(uint64_t step, const std::vector<uint64_t>& samples, const std::vector<float>& entropy);
  // Selects the samples of schedule().nextUnselectedEpoch() from the newest
  // scores before its first step (schedule().selectionHorizon()) and sets
  // them in the schedule. Call it once every worker has scored every step
  // before that: then the choice is the same on every run.
  EpochSelection selectNextEpoch();
  // After the checkpoint of `step` is committed: drops the scores and subsets
  // no later checkpoint can record.
  void prune(uint64_t committed_step);

 private:
  DataLedger(DataShape shape, LedgerPosition start, std::vector<LedgerSegment> earlier, uint64_t consumed_before,
             int resumed_workers, std::vector<uint64_t> start_epoch_samples = {});

  DataShape shape_;
  DataSchedule schedule_;
  std::optional<DataSelection> selection_;
  std::vector<LedgerSegment> segments_;
  uint64_t consumed_before_ = 0;  // samples consumed before this segment's first step
  int resumed_workers_ = 0;
};

}  // namespace distill::coordinator
