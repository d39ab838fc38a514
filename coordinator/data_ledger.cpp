#include "coordinator/data_ledger.h"

#include <nlohmann/json.hpp>

#include "common/dataset_manifest.h"
#include "common/error.h"
#include "common/json_file.h"
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
      seg.start = {s.at("start_step").get<uint64_t>(), s.at("epoch").get<uint64_t>(),
                   s.at("epoch_offset").get<uint64_t>()};
      seg.global_batch = s.at("global_batch").get<uint64_t>();
      seg.num_workers = s.at("num_workers").get<int>();
      out.push_back(seg);
    }
  } catch (const nlohmann::json::exception& e) {
    DISTILL_FAIL(file, ": key \"segments\" is not a list of run segments: ", e.what());
  }
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
                       uint64_t consumed_before, int resumed_workers)
    : shape_(std::move(shape)),
      schedule_(shape_.shard_sizes, shape_.seed, shape_.num_workers, shape_.batch_size, start),
      segments_(std::move(earlier)),
      consumed_before_(consumed_before),
      resumed_workers_(resumed_workers) {
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
  try {
    return DataLedger(std::move(shape), at, std::move(segments), state.get<uint64_t>("samples_consumed"), workers);
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
  uint64_t samples = 0;
  for (uint64_t n : shape_.shard_sizes) samples += n;
  return {
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
}

}  // namespace distill::coordinator
