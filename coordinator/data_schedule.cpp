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
                           uint64_t batch_size, LedgerPosition start)
    : shard_sizes_(std::move(shard_sizes)), seed_(seed), num_workers_(num_workers), batch_size_(batch_size),
      start_(start) {
  DISTILL_CHECK(num_workers_ > 0, "the job needs at least one worker");
  DISTILL_CHECK(batch_size_ > 0, "training.batch_size must be positive");
  for (uint64_t n : shard_sizes_) {
    shard_offsets_.push_back(num_samples_);
    num_samples_ += n;
  }
  steps_per_epoch_ = num_samples_ / globalBatch();
  DISTILL_CHECK(steps_per_epoch_ > 0, "data.train holds ", num_samples_, " samples, fewer than one global batch (",
                batch_size_, " per worker x ", num_workers_, " workers): lower training.batch_size");
  DISTILL_CHECK(start_.offset <= num_samples_, "the data ledger resumes at sample ", start_.offset, " of epoch ",
                start_.epoch, ", past the ", num_samples_, " samples of data.train");
  // What is left of the epoch is dropped when it is less than a global batch,
  // exactly as the remainder of an epoch that started at offset 0.
  if (num_samples_ - start_.offset < globalBatch()) {
    ++start_.epoch;
    start_.offset = 0;
  }
  steps_in_first_epoch_ = (num_samples_ - start_.offset) / globalBatch();
}

std::vector<uint64_t> DataSchedule::epochOrder(uint64_t epoch) const {
  std::mt19937_64 rng(seed_ * 0x9E3779B97F4A7C15ULL + epoch + 1);
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
  return {step, start_.epoch + 1 + later / steps_per_epoch_, (later % steps_per_epoch_) * globalBatch()};
}

uint64_t DataSchedule::stepsForEpochs(uint64_t epochs) const {
  if (epochs <= start_.epoch) return start_.step;
  return start_.step + steps_in_first_epoch_ + (epochs - start_.epoch - 1) * steps_per_epoch_;
}

std::vector<uint64_t> DataSchedule::samples(uint64_t step, int worker) {
  DISTILL_ASSERT(worker >= 0 && worker < num_workers_);
  const LedgerPosition at = position(step);
  if (at.epoch != cached_epoch_) {
    cached_order_ = epochOrder(at.epoch);
    cached_epoch_ = at.epoch;
  }
  const uint64_t begin = at.offset + static_cast<uint64_t>(worker) * batch_size_;
  return {cached_order_.begin() + static_cast<long>(begin),
          cached_order_.begin() + static_cast<long>(begin + batch_size_)};
}

}  // namespace distill::coordinator
