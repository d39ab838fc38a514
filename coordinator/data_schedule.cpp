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
                           uint64_t batch_size)
    : shard_sizes_(std::move(shard_sizes)), seed_(seed), num_workers_(num_workers), batch_size_(batch_size) {
  DISTILL_CHECK(num_workers_ > 0, "the job needs at least one worker");
  DISTILL_CHECK(batch_size_ > 0, "training.batch_size must be positive");
  uint64_t total = 0;
  for (uint64_t n : shard_sizes_) {
    shard_offsets_.push_back(total);
    total += n;
  }
  steps_per_epoch_ = total / globalBatch();
  DISTILL_CHECK(steps_per_epoch_ > 0, "data.train holds ", total, " samples, fewer than one global batch (",
                batch_size_, " per worker x ", num_workers_, " workers): lower training.batch_size");
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

std::vector<uint64_t> DataSchedule::samples(uint64_t step, int worker) {
  DISTILL_ASSERT(worker >= 0 && worker < num_workers_);
  const uint64_t epoch = epochOf(step);
  if (epoch != cached_epoch_) {
    cached_order_ = epochOrder(epoch);
    cached_epoch_ = epoch;
  }
  const uint64_t begin = (step % steps_per_epoch_) * globalBatch() + static_cast<uint64_t>(worker) * batch_size_;
  return {cached_order_.begin() + static_cast<long>(begin),
          cached_order_.begin() + static_cast<long>(begin + batch_size_)};
}

}  // namespace distill::coordinator
