#include "coordinator/data_ledger.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "common/dataset_manifest.h"
#include "common/error.h"
#include "common/json_file.h"
#include "common/json_strict.h"
#include "common/sha256.h"

namespace distill::coordinator {
namespace {

nlohmann::json segmentJson(const LedgerSegment& s) {
  return {{"start_step", s.start.step},       {"epoch", s.start.epoch},     {"epoch_offset", s.start.offset},
          {"global_batch", s.global_batch}, {"num_workers", s.num_workers}};
}

std::vector<LedgerSegment> readSegments(const std::string& file, const nlohmann::json& list) {
  std::vector<LedgerSegment> out;
  try {
    for (const auto& s : list) {
      LedgerSegment seg;
      const std::string where = file + ": segments";
      seg.start = {unsignedOf(s.at("start_step"), where), unsignedOf(s.at("epoch"), where),
                   unsignedOf(s.at("epoch_offset"), where)};
      seg.global_batch = unsignedOf(s.at("global_batch"), where);
      const uint64_t workers = unsignedOf(s.at("num_workers"), where);
      DISTILL_CHECK(workers > 0 && workers <= (1u << 20), where, ": num_workers ", workers, " is out of range");
      seg.num_workers = static_cast<int>(workers);
      out.push_back(seg);
    }
  } catch (const nlohmann::json::exception& e) {
    DISTILL_FAIL(file, ": key \"segments\" is not a list of run segments: ", e.what());
  }
  return out;
}

uint64_t totalSamples(const DataShape& shape) {
  uint64_t n = 0;
  for (uint64_t s : shape.shard_sizes) n += s;
  return n;
}

// The epochs' shape under training.data_selection; a dataset smaller than one
// global batch is left to the schedule, whose message says that.
SubsetEpochs subsetEpochs(const DataShape& shape, std::vector<uint64_t> start_epoch_samples) {
  SubsetEpochs out;
  const uint64_t global_batch = shape.batch_size * static_cast<uint64_t>(std::max(shape.num_workers, 0));
  if (shape.selection_fraction > 0 && global_batch > 0 && totalSamples(shape) >= global_batch) {
    out.kept_per_epoch = DataSelection::keptPerEpoch(shape.selection_fraction, totalSamples(shape), global_batch);
    out.start_epoch_samples = std::move(start_epoch_samples);
  }
  return out;
}

// A fraction as --set must write it to get the same double back.
std::string exactly(double fraction) { return nlohmann::json(fraction).dump(); }

// Entropies as the 9 significant digits that give the same float back: a
// float widened to double would print 17.
nlohmann::json scoresJson(const ScoreTable& t) {
  nlohmann::json entropy = nlohmann::json::array();
  char text[32];
  for (float e : t.entropy) {
    std::snprintf(text, sizeof(text), "%.9g", static_cast<double>(e));
    entropy.push_back(std::strtod(text, nullptr));
  }
  return {{"samples", t.samples}, {"steps", t.steps}, {"entropy", std::move(entropy)}};
}

// The checkpoint's data selection record against this job's fraction; returns
// the selected samples of the checkpoint's epoch and the scores.
std::pair<std::vector<uint64_t>, ScoreTable> readSelection(const std::string& file, const nlohmann::json& fields,
                                                           uint64_t epoch, double fraction) {
  const bool recorded = fields.contains("data_selection");
  DISTILL_CHECK(recorded || fraction == 0, file, ": field \"data_selection\" is missing: the checkpoint was trained ",
                "without data selection and this job has training.data_selection.fraction ", exactly(fraction),
                ": resume with --set training.data_selection.fraction=0 (selection cannot start in the middle of a ",
                "run)");
  if (!recorded) return {};
  std::pair<std::vector<uint64_t>, ScoreTable> out;
  double was = 0;
  uint64_t was_epoch = 0;
  try {
    const nlohmann::json& ds = fields.at("data_selection");
    const std::string where = file + ": data_selection";
    DISTILL_CHECK(ds.at("fraction").is_number(), where, ".fraction: expected a number");
    was = ds.at("fraction").get<double>();
    was_epoch = unsignedOf(ds.at("epoch"), where + ".epoch");
    out.first = unsignedListOf(ds.at("selected"), where + ".selected");
    const nlohmann::json& scores = ds.at("scores");
    out.second.samples = unsignedListOf(scores.at("samples"), where + ".scores.samples");
    out.second.steps = unsignedListOf(scores.at("steps"), where + ".scores.steps");
    out.second.entropy = floatListOf(scores.at("entropy"), where + ".scores.entropy");
  } catch (const nlohmann::json::exception& e) {
    DISTILL_FAIL(file, ": key \"data_selection\" is not a data selection record (fraction, epoch, selected, ",
                 "scores): ", e.what());
  }
  DISTILL_CHECK(fraction > 0, file, ": field \"data_selection\": the checkpoint was trained with ",
                "training.data_selection.fraction ", exactly(was), " and this job has data selection off: resume with ",
                "--set training.data_selection.fraction=", exactly(was));
  DISTILL_CHECK(was == fraction, file, ": field \"data_selection.fraction\": the checkpoint was trained with ",
                "training.data_selection.fraction ", exactly(was), " and this job has ", exactly(fraction),
                ": resume with --set training.data_selection.fraction=", exactly(was),
                " (another fraction changes the size of the epoch in progress)");
  DISTILL_CHECK(was_epoch == epoch, file, ": field \"data_selection.epoch\" is ", was_epoch,
                ", not the checkpoint's epoch ", epoch);
  if (epoch == 0) out.first.clear();  // epoch 0 trains on every sample
  return out;
}

}  // namespace

std::string datasetDigest(const data::DatasetManifest& manifest) {
  Sha256 h;
  for (const auto& shard : manifest.shards) {
    const std::string line = std::to_string(shard.num_samples) + " " + shard.sha256 + "\n";
    h.update(line.data(), line.size());
  }
  return h.hexDigest();
}

DataLedger::DataLedger(DataShape shape) : DataLedger(std::move(shape), LedgerPosition{}, {}, 0, 0) {}

DataLedger::DataLedger(DataShape shape, LedgerPosition start, std::vector<LedgerSegment> earlier,
                       uint64_t consumed_before, int resumed_workers, std::vector<uint64_t> start_epoch_samples)
    : shape_(std::move(shape)),
      schedule_(shape_.shard_sizes, shape_.seed, shape_.num_workers, shape_.batch_size, start,
                subsetEpochs(shape_, std::move(start_epoch_samples))),
      segments_(std::move(earlier)),
      consumed_before_(consumed_before),
      resumed_workers_(resumed_workers) {
  if (schedule_.selecting()) selection_.emplace(schedule_.numSamples());
  // The same global batch continues the last segment: its arithmetic gives the
  // same samples from any of its steps on, so nothing new needs recording.
  if (segments_.empty() || segments_.back().global_batch != schedule_.globalBatch() ||
      segments_.back().num_workers != shape_.num_workers) {
    segments_.push_back({schedule_.start(), schedule_.globalBatch(), shape_.num_workers});
  }
}

DataLedger DataLedger::resume(const std::string& state_file, DataShape shape) {
  const JsonFile state(state_file);
  const nlohmann::json& fields = state.json();
  const auto step = state.get<uint64_t>("step");
  const auto workers = state.get<int>("num_workers");
  const auto global_batch = state.get<uint64_t>("global_batch");
  const auto seed = state.get<uint64_t>("seed");
  DISTILL_CHECK(workers > 0 && global_batch > 0, state_file, ": num_workers ", workers, " and global_batch ",
                global_batch, " must be positive");
  // Checkpoints written before the ledger recorded batch_size, epoch_offset,
  // the dataset and the segments had one segment from step 0 at their worker
  // count; their missing fields follow from the others.
  const uint64_t batch_size = fields.contains("batch_size") ? state.get<uint64_t>("batch_size")
                                                            : global_batch / static_cast<uint64_t>(workers);

  DISTILL_CHECK(seed == shape.seed, state_file, ": field \"seed\": the checkpoint's data order was drawn with seed ",
                seed, " and this job has seed ", shape.seed, ": resume with --set seed=", seed,
                " (another seed reorders the epoch the checkpoint is in the middle of)");
  DISTILL_CHECK(batch_size == shape.batch_size, state_file, ": field \"batch_size\": the checkpoint was trained with ",
                "training.batch_size ", batch_size, " per worker and this job has ", shape.batch_size,
                ": resume with --set training.batch_size=", batch_size,
                " (the worker count may change on a resume; the per-worker batch may not)");
  if (fields.contains("dataset_sha256")) {
    const auto digest = state.get<std::string>("dataset_sha256");
    uint64_t now_samples = 0;
    for (uint64_t n : shape.shard_sizes) now_samples += n;
    DISTILL_CHECK(digest == shape.dataset_digest, state_file, ": field \"dataset_sha256\": data.train (",
                  now_samples, " samples in ", shape.shard_sizes.size(),
                  " shards) is not the dataset the checkpoint was trained on",
                  fields.contains("dataset_samples") ? detail::concat(" (", fields.at("dataset_samples"), " samples)")
                                                     : std::string(),
                  ": resume with the same data.train");
  }

  LedgerPosition at{step, state.get<uint64_t>("epoch"), 0};
  at.offset = fields.contains("epoch_offset") ? state.get<uint64_t>("epoch_offset")
                                              : (step % state.get<uint64_t>("steps_per_epoch")) * global_batch;
  std::vector<LedgerSegment> segments =
      fields.contains("segments") ? readSegments(state_file, fields.at("segments"))
                                  : std::vector<LedgerSegment>{{LedgerPosition{}, global_batch, workers}};
  auto [selected, scores] = readSelection(state_file, fields, at.epoch, shape.selection_fraction);
  const auto consumed = state.get<uint64_t>("samples_consumed");
  try {
    DataLedger ledger(std::move(shape), at, std::move(segments), consumed, workers, std::move(selected));
    if (ledger.selection_) ledger.selection_->restore(scores);
    return ledger;
  } catch (const Error& e) {
    DISTILL_FAIL(state_file, ": ", e.what());
  }
}

uint64_t DataLedger::totalSteps(uint64_t max_steps, uint64_t epochs) const {
  return max_steps > 0 ? max_steps : schedule_.stepsForEpochs(epochs);
}

uint64_t DataLedger::samplesConsumed(uint64_t step) const {
  DISTILL_ASSERT(step >= schedule_.start().step);
  return consumed_before_ + (step - schedule_.start().step) * schedule_.globalBatch();
}

nlohmann::json DataLedger::record(uint64_t step) const {
  const LedgerPosition at = schedule_.position(step);
  nlohmann::json segments = nlohmann::json::array();
  for (const auto& s : segments_) segments.push_back(segmentJson(s));
  const uint64_t samples = totalSamples(shape_);
  nlohmann::json state = {
      {"step", step},
      {"epoch", at.epoch},
      {"epoch_offset", at.offset},
      {"steps_per_epoch", schedule_.stepsPerEpoch()},
      {"global_batch", schedule_.globalBatch()},
      {"batch_size", shape_.batch_size},
      {"num_workers", shape_.num_workers},
      {"samples_consumed", samplesConsumed(step)},
      {"seed", shape_.seed},
      {"dataset_samples", samples},
      {"dataset_sha256", shape_.dataset_digest},
      {"segments", segments},
  };
  if (selection_) {
    // The subset of the epoch the checkpoint is in (none in epoch 0, and none
    // yet at the first step of an epoch not selected: a resume selects it from
    // the scores, which are complete up to that step).
    std::vector<uint64_t> selected;
    if (at.epoch > 0 && schedule_.hasSamples(at.epoch)) selected = schedule_.epochSamples(at.epoch);
    state["data_selection"] = {{"fraction", shape_.selection_fraction},
                               {"kept_per_epoch", schedule_.keptPerEpoch()},
                               {"epoch", at.epoch},
                               {"selected", selected},
                               {"scores", scoresJson(selection_->scoresAt(step))}};
  }
  return state;
}

void DataLedger::recordScores(uint64_t step, const std::vector<uint64_t>& samples, const std::vector<float>& entropy) {
  DISTILL_ASSERT(selection_, "scores recorded without data selection");
  selection_->record(step, samples, entropy);
}

EpochSelection DataLedger::selectNextEpoch() {
  DISTILL_ASSERT(selection_, "selection without data selection");
  EpochSelection out;
  out.epoch = schedule_.nextUnselectedEpoch();
  out.first_step = schedule_.selectionHorizon();
  out.kept = schedule_.keptPerEpoch();
  out.num_samples = schedule_.numSamples();
  SelectedSamples chosen = selection_->select(out.kept, out.first_step);
  out.min_entropy = chosen.min_entropy;
  out.never_scored = chosen.never_scored;
  schedule_.setEpochSamples(out.epoch, std::move(chosen.samples));
  return out;
}

void DataLedger::prune(uint64_t committed_step) {
  if (!selection_) return;
  selection_->prune(committed_step);
  schedule_.forgetEpochsBefore(schedule_.epochOf(std::max(committed_step, schedule_.start().step)));
}

}  // namespace distill::coordinator
