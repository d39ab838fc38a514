#include "coordinator/data_selection.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"

namespace distill::coordinator {

DataSelection::DataSelection(uint64_t num_samples) : num_samples_(num_samples), history_(num_samples) {}

uint64_t DataSelection::keptPerEpoch(double fraction, uint64_t num_samples, uint64_t global_batch) {
  DISTILL_ASSERT(global_batch > 0);
  DISTILL_CHECK(fraction > 0 && fraction <= 1, "training.data_selection.fraction must be in (0, 1], got ", fraction);
  // The tolerance keeps 0.3 x 100 / 10 at 3 batches: the product of a decimal
  // fraction may come out a hair under the whole number it stands for.
  const double batches = std::floor(fraction * static_cast<double>(num_samples) / static_cast<double>(global_batch) + 1e-9);
  const uint64_t kept = static_cast<uint64_t>(batches) * global_batch;
  DISTILL_CHECK(kept >= global_batch, "training.data_selection.fraction: ", fraction, " of the ", num_samples,
                " samples of data.train is less than one global batch (", global_batch,
                " samples: training.batch_size x workers): raise the fraction to at least ",
                static_cast<double>(global_batch) / static_cast<double>(num_samples),
                ", or lower training.batch_size or the worker count");
  return std::min(kept, num_samples);
}

void DataSelection::record(uint64_t step, const std::vector<uint64_t>& samples, const std::vector<float>& entropy) {
  DISTILL_CHECK(samples.size() == entropy.size(), "data selection scores of step ", step, ": ", samples.size(),
                " samples but ", entropy.size(), " entropies");
  for (size_t i = 0; i < samples.size(); ++i) {
    const uint64_t id = samples[i];
    DISTILL_CHECK(id < num_samples_, "data selection scores of step ", step, ": sample ", id,
                  " is out of range (data.train holds ", num_samples_, " samples)");
    DISTILL_CHECK(std::isfinite(entropy[i]), "data selection scores of step ", step, ": the entropy of sample ", id,
                  " is ", entropy[i], " (the student's outputs are not finite)");
    auto& h = history_[id];
    // Scores arrive in step order per worker but not across workers: insert in
    // place. A second score of the same step replaces the first.
    auto at = std::lower_bound(h.begin(), h.end(), step,
                               [](const std::pair<uint64_t, float>& e, uint64_t s) { return e.first < s; });
    if (at != h.end() && at->first == step) {
      at->second = entropy[i];
    } else {
      h.insert(at, {step, entropy[i]});
    }
  }
}

long DataSelection::newestBefore(const std::vector<std::pair<uint64_t, float>>& history, uint64_t step) {
  auto after = std::lower_bound(history.begin(), history.end(), step,
                                [](const std::pair<uint64_t, float>& e, uint64_t s) { return e.first < s; });
  return static_cast<long>(after - history.begin()) - 1;
}

SelectedSamples DataSelection::select(uint64_t kept, uint64_t before_step) const {
  DISTILL_ASSERT(kept > 0 && kept <= num_samples_, "kept ", kept, " of ", num_samples_);
  constexpr float kNeverScored = std::numeric_limits<float>::infinity();
  std::vector<std::pair<float, uint64_t>> ranked(num_samples_);
  for (uint64_t id = 0; id < num_samples_; ++id) {
    const long at = newestBefore(history_[id], before_step);
    ranked[id] = {at < 0 ? kNeverScored : history_[id][static_cast<size_t>(at)].second, id};
  }
  // Higher entropy first, then the lower id: a strict total order (entropies
  // are finite), so the kept set does not depend on the sort's algorithm.
  auto before = [](const std::pair<float, uint64_t>& a, const std::pair<float, uint64_t>& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  std::nth_element(ranked.begin(), ranked.begin() + static_cast<long>(kept - 1), ranked.end(), before);
  SelectedSamples out;
  out.min_entropy = kNeverScored;
  out.samples.reserve(kept);
  for (uint64_t i = 0; i < kept; ++i) {
    out.samples.push_back(ranked[i].second);
    out.min_entropy = std::min(out.min_entropy, ranked[i].first);
    if (ranked[i].first == kNeverScored) ++out.never_scored;
  }
  std::sort(out.samples.begin(), out.samples.end());
  return out;
}

ScoreTable DataSelection::scoresAt(uint64_t step) const {
  ScoreTable table;
  for (uint64_t id = 0; id < num_samples_; ++id) {
    const long at = newestBefore(history_[id], step);
    if (at < 0) continue;
    table.samples.push_back(id);
    table.steps.push_back(history_[id][static_cast<size_t>(at)].first);
    table.entropy.push_back(history_[id][static_cast<size_t>(at)].second);
  }
  return table;
}

void DataSelection::prune(uint64_t committed_step) {
  for (auto& h : history_) {
    const long at = newestBefore(h, committed_step);
    if (at > 0) h.erase(h.begin(), h.begin() + at);
  }
}

void DataSelection::restore(const ScoreTable& table) {
  DISTILL_CHECK(table.samples.size() == table.steps.size() && table.samples.size() == table.entropy.size(),
                "the data selection scores hold ", table.samples.size(), " samples, ", table.steps.size(),
                " steps and ", table.entropy.size(), " entropies: one each per sample expected");
  for (size_t i = 0; i < table.samples.size(); ++i) {
    record(table.steps[i], {table.samples[i]}, {table.entropy[i]});
  }
}

uint64_t DataSelection::entries() const {
  uint64_t n = 0;
  for (const auto& h : history_) n += h.size();
  return n;
}

}  // namespace distill::coordinator
