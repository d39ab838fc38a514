#include "coordinator/data_schedule.h"

#include <numeric>
#include <random>

#include "common/error.h"

namespace distill::coordinator {
namespace {
// Fisher-Yates with our own index draws: std::shuffle's sequence is not
// specified by the standard, and the order must be the same on every platform.
void shuffle(std::vector<uint64_t>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    const uint64_t j = rng() % i;
    std::swap(v[i - 1], v[j]);
  }
}
}  // namespace

DataSchedule::DataSchedule(std::vector<uint64_t> shard_sizes, uint64_t seed, int num_workers,
                           uint64_t batch_size, LedgerPosition start, SubsetEpochs subsets)
    : shard_sizes_(std::move(shard_sizes)), seed_(seed), num_workers_(num_workers), batch_size_(batch_size),
      start_(start), subsets_(std::move(subsets)) {
  DISTILL_CHECK(num_workers_ > 0, "the job needs at least one worker");
  DISTILL_CHECK(batch_size_ > 0, "training.batch_size must be positive");
  for (uint64_t n : shard_sizes_) {
    shard_offsets_.push_back(num_samples_);
    num_samples_ += n;
  }
  steps_per_epoch_ = num_samples_ / globalBatch();
  DISTILL_CHECK(steps_per_epoch_ > 0, "data.train holds ", num_samples_, " samples, fewer than one global batch (",
                batch_size_, " per worker x ", num_workers_, " workers): lower training.batch_size");
  if (selecting()) {
    const uint64_t kept = subsets_.kept_per_epoch;
    DISTILL_ASSERT(kept % globalBatch() == 0 && kept <= num_samples_, "kept ", kept, " of ", num_samples_,
                   " at global batch ", globalBatch());
    // The start epoch is a subset epoch: a resume continues the subset its
    // checkpoint recorded; without one it is still to be selected, which only
    // works from its first sample.
    std::vector<uint64_t> recorded = std::move(subsets_.start_epoch_samples);
    subsets_.start_epoch_samples.clear();
    DISTILL_CHECK(start_.epoch == 0 || start_.offset == 0 || !recorded.empty(), "the data ledger resumes at sample ",
                  start_.offset, " of epoch ", start_.epoch, ", an epoch of selected samples, but its selection is ",
                  "not recorded");
    if (start_.epoch > 0 && !recorded.empty()) {
      for (size_t i = 0; i < recorded.size(); ++i) {
        DISTILL_CHECK(recorded[i] < num_samples_ && (i == 0 || recorded[i - 1] < recorded[i]),
                      "the selected samples of epoch ", start_.epoch, " are not increasing sample ids below ",
                      num_samples_, " (at position ", i, ": ", recorded[i], ")");
      }
      epoch_samples_[start_.epoch] = std::move(recorded);
    }
  }
  const uint64_t first_size = epochSize(start_.epoch);
  DISTILL_CHECK(start_.offset <= first_size, "the data ledger resumes at sample ", start_.offset, " of epoch ",
                start_.epoch, ", past the ", first_size,
                first_size == num_samples_ ? " samples of data.train" : " selected samples of that epoch");
  // What is left of the epoch is dropped when it is less than a global batch,
  // exactly as the remainder of an epoch that started at offset 0.
  if (first_size - start_.offset < globalBatch()) {
    ++start_.epoch;
    start_.offset = 0;
    epoch_samples_.clear();  // the next epoch is yet to be selected
  }
  steps_in_first_epoch_ = (epochSize(start_.epoch) - start_.offset) / globalBatch();
  steps_per_later_epoch_ = selecting() ? subsets_.kept_per_epoch / globalBatch() : steps_per_epoch_;
  if (selecting()) {
    next_unselected_ = start_.epoch == 0 || epoch_samples_.count(start_.epoch) ? start_.epoch + 1 : start_.epoch;
  }
}

uint64_t DataSchedule::epochSize(uint64_t epoch) const {
  if (!selecting() || epoch == 0) return num_samples_;
  const auto it = epoch_samples_.find(epoch);
  return it != epoch_samples_.end() ? it->second.size() : subsets_.kept_per_epoch;
}

bool DataSchedule::hasSamples(uint64_t epoch) const { return !selecting() || epoch < next_unselected_; }

uint64_t DataSchedule::selectionHorizon() const {
  return selecting() ? stepsForEpochs(next_unselected_) : UINT64_MAX;
}

void DataSchedule::setEpochSamples(uint64_t epoch, std::vector<uint64_t> ids) {
  DISTILL_ASSERT(selecting() && epoch == next_unselected_, "epoch ", epoch, " set before epoch ", next_unselected_);
  DISTILL_ASSERT(ids.size() == subsets_.kept_per_epoch, ids.size(), " samples for epoch ", epoch, ", expected ",
                 subsets_.kept_per_epoch);
  for (size_t i = 0; i < ids.size(); ++i) {
    DISTILL_ASSERT(ids[i] < num_samples_ && (i == 0 || ids[i - 1] < ids[i]), "sample ", ids[i], " at ", i);
  }
  epoch_samples_[epoch] = std::move(ids);
  ++next_unselected_;
}

const std::vector<uint64_t>& DataSchedule::epochSamples(uint64_t epoch) const {
  const auto it = epoch_samples_.find(epoch);
  DISTILL_ASSERT(it != epoch_samples_.end(), "epoch ", epoch, " has no selected samples");
  return it->second;
}

void DataSchedule::forgetEpochsBefore(uint64_t epoch) {
  epoch_samples_.erase(epoch_samples_.begin(), epoch_samples_.lower_bound(epoch));
}

std::vector<uint64_t> DataSchedule::epochOrder(uint64_t epoch) const {
  std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ULL + epoch + 1);
  if (selecting() && epoch > 0) {
    // A subset has no shard blocks to keep: it is scattered over the shards anyway.
    std::vector<uint64_t> order = epochSamples(epoch);
    shuffle(order, rng);
    return order;
  }
  std::vector<uint64_t> shards(shard_sizes_.size());
  std::iota(shards.begin(), shards.end(), 0);
  shuffle(shards, rng);
  std::vector<uint64_t> order;
  for (uint64_t s : shards) {
    std::vector<uint64_t> rows(shard_sizes_[s]);
    std::iota(rows.begin(), rows.end(), shard_offsets_[s]);
    shuffle(rows, rng);
    order.insert(order.end(), rows.begin(), rows.end());
  }
  return order;
}

LedgerPosition DataSchedule::position(uint64_t step) const {
  DISTILL_ASSERT(step >= start_.step, "step ", step, " is before the segment's first step ", start_.step);
  const uint64_t done = step - start_.step;
  if (done < steps_in_first_epoch_) return {step, start_.epoch, start_.offset + done * globalBatch()};
  const uint64_t later = done - steps_in_first_epoch_;  // steps since the first epoch ended
  return {step, start_.epoch + 1 + later / steps_per_later_epoch_, (later % steps_per_later_epoch_) * globalBatch()};
}

uint64_t DataSchedule::stepsForEpochs(uint64_t epochs) const {
  if (epochs <= start_.epoch) return start_.step;
  return start_.step + steps_in_first_epoch_ + (epochs - start_.epoch - 1) * steps_per_later_epoch_;
}

std::vector<uint64_t> DataSchedule::samples(uint64_t step, int worker) {
  DISTILL_ASSERT(worker >= 0 && worker < num_workers_);
  const LedgerPosition at = position(step);
  DISTILL_ASSERT(hasSamples(at.epoch), "step ", step, " is in epoch ", at.epoch, ", not selected yet");
  if (at.epoch != cached_epoch_) {
    cached_order_ = epochOrder(at.epoch);
    cached_epoch_ = at.epoch;
  }
  const uint64_t begin = at.offset + static_cast<uint64_t>(worker) * batch_size_;
  return {cached_order_.begin() + static_cast<long>(begin),
          cached_order_.begin() + static_cast<long>(begin + batch_size_)};
}

}  // namespace distill::coordinator
