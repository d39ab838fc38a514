// Data selection (Dynamic KD): which samples the next epoch trains on.
//
// Workers report, for every sample they train on, the student's predictive
// entropy in that step (control.proto SampleScores). At the end of an epoch
// the coordinator ranks every sample of data.train by its most recent entropy
// and keeps the `kept` most uncertain ones: the student learns most from what
// it is unsure about. A sample never scored (one in an epoch's dropped
// remainder) ranks first, as if its entropy were +infinity: nothing says it
// is learnt. Ties go to the lower sample id, so the choice is a pure function
// of the scores and the same on every run.
//
// The history is kept per sample with the step of each score, because a
// checkpoint of step c must record the scores as they stood before step c
// even when workers have already trained past c by the time it commits.
// A plain class without MPI, tested directly (docs/distillation.md#data-selection).
//
//   DataSelection selection(/*num_samples=*/1000);
//   uint64_t k = DataSelection::keptPerEpoch(0.3, 1000, /*global_batch=*/32);   // 288
//   selection.record(/*step=*/5, {17, 4}, {0.9f, 0.2f});
//   SelectedSamples next = selection.select(k, /*before_step=*/31);
//   ScoreTable saved = selection.scoresAt(/*step=*/20);   // into state.json
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace distill::coordinator {

// One score per sample, in increasing sample id: what a checkpoint records.
// samples[i] was scored entropy[i] in step steps[i].
struct ScoreTable {
  std::vector<uint64_t> samples;
  std::vector<uint64_t> steps;
  std::vector<float> entropy;
};

// The result of a selection: the kept sample ids in increasing order, and the
// lowest entropy among them (+infinity when every kept sample was never scored).
struct SelectedSamples {
  std::vector<uint64_t> samples;
  float min_entropy = 0;
  uint64_t never_scored = 0;  // kept samples without a score
};

class DataSelection {
 public:
  explicit DataSelection(uint64_t num_samples);

  // Samples an epoch after the first keeps: floor(fraction * num_samples /
  // global_batch) whole global batches, so that every kept sample is trained.
  // Throws distill::Error naming training.data_selection.fraction, the sample
  // count and the global batch when that is less than one global batch.
  static uint64_t keptPerEpoch(double fraction, uint64_t num_samples, uint64_t global_batch);

  uint64_t numSamples() const { return num_samples_; }

  // Records the entropies one worker measured in `step`: entropy[i] of
  // samples[i]. Throws distill::Error naming the step when the sizes differ, a
  // sample id is out of range or an entropy is not finite.
  void record(uint64_t step, const std::vector<uint64_t>& samples, const std::vector<float>& entropy);

  // The `kept` samples with the highest entropy, each sample ranked by its
  // newest score from a step before `before_step` (the first step of the epoch
  // selected for); never scored ranks first; ties go to the lower id.
  SelectedSamples select(uint64_t kept, uint64_t before_step) const;

  // For every scored sample, its newest score from a step before `step`: the
  // scores a checkpoint of `step` records.
  ScoreTable scoresAt(uint64_t step) const;

  // Forgets what no checkpoint of `committed_step` or later can need: per
  // sample, the scores older than its newest one before `committed_step`.
  void prune(uint64_t committed_step);

  // Adds the scores a checkpoint recorded (a resumed job). Throws
  // distill::Error when the lists differ in length or a sample is out of range.
  void restore(const ScoreTable& table);

  // Scores held, over all samples (what prune bounds).
  uint64_t entries() const;

 private:
  // The index in `history` of the newest score before `step`, or -1.
  static long newestBefore(const std::vector<std::pair<uint64_t, float>>& history, uint64_t step);

  uint64_t num_samples_;
  // Per sample: (step, entropy), in increasing step.
  std::vector<std::vector<std::pair<uint64_t, float>>> history_;
};

}  // namespace distill::coordinator
