#include "trainer/sparsity/sparsity_levels.h"

#include "common/error.h"

namespace distill::sparsity {

std::string levelMaskName(size_t level, const std::string& param) {
  return "level-" + std::to_string(level) + "/" + param;
}

SparsityLevels::SparsityLevels(const config::SparsitySpec& spec, MaskSet& base, uint64_t seed)
    : levels_(spec.levels().begin(), spec.levels().end()),
      sample_(spec.level_order() == "sample"),
      seed_(seed),
      base_(base) {
  DISTILL_ASSERT(levels_.size() >= 2, "sparsity.levels needs two levels or more");
  for (size_t i = 1; i < levels_.size(); ++i) {
    std::vector<NamedTensor> level;
    for (const NamedTensor& m : std::as_const(base_).masks()) level.push_back({m.name, m.tensor.clone()});
    masks_.push_back(std::move(level));
  }
}

double SparsityLevels::targetOf(size_t i, double last_target) const {
  return last_target * levels_.at(i) / levels_.back();
}

int64_t SparsityLevels::update(double last_target, const ImportanceCriterion& criterion, const std::string& scope) {
  DISTILL_ASSERT(entered_ == 0, "masks recomputed while level ", entered_, " is entered");
  torch::NoGradGuard no_grad;
  const auto& base = std::as_const(base_).masks();
  std::vector<torch::Tensor> previous;  // pruned at the level below
  for (const NamedTensor& m : base) previous.push_back(m.tensor.logical_not());
  int64_t changed = 0;
  for (size_t i = 1; i < levels_.size(); ++i) {
    std::vector<torch::Tensor> pruned = base_.prunedAt(targetOf(i, last_target), criterion, scope);
    for (size_t p = 0; p < pruned.size(); ++p) {
      pruned[p] = pruned[p].view(base[p].tensor.sizes()).logical_or(previous[p]);  // nested, whatever the ranking
      const torch::Tensor kept = pruned[p].logical_not();
      torch::Tensor& mask = masks_[i - 1][p].tensor;
      changed += kept.ne(mask).sum().item<int64_t>();
      mask.copy_(kept);
    }
    previous = std::move(pruned);
  }
  return changed;
}

size_t SparsityLevels::levelAt(int64_t step) const {
  const uint64_t n = levels_.size();
  if (!sample_) return static_cast<size_t>(static_cast<uint64_t>(step) % n);
  // splitmix64 of (seed, step): uniform, and the same on every worker.
  uint64_t z = seed_ * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(step) + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<size_t>(z % n);
}

void SparsityLevels::enter(size_t level) {
  DISTILL_ASSERT(entered_ == 0, "level ", level, " entered while level ", entered_, " is");
  DISTILL_ASSERT(level < levels_.size(), "no level ", level);
  if (level == 0) return;
  torch::NoGradGuard no_grad;
  const auto& base = std::as_const(base_).masks();
  const auto& params = base_.params();
  kept_aside_.clear();
  for (size_t p = 0; p < params.size(); ++p) {
    const torch::Tensor& mask = masks_[level - 1][p].tensor;
    torch::Tensor w = params[p].tensor;
    const torch::Tensor only_here = base[p].tensor.logical_and(mask.logical_not());
    kept_aside_.push_back(w.masked_select(only_here));
    w.masked_fill_(mask.logical_not(), 0.0);
  }
  entered_ = level;
}

void SparsityLevels::maskGradients() const {
  if (entered_ == 0) return;
  torch::NoGradGuard no_grad;
  const auto& params = base_.params();
  for (size_t p = 0; p < params.size(); ++p) {
    torch::Tensor grad = params[p].tensor.grad();
    if (grad.defined()) zeroWhereMasked(grad, masks_[entered_ - 1][p].tensor);
  }
}

void SparsityLevels::leave() {
  if (entered_ == 0) return;
  torch::NoGradGuard no_grad;
  const auto& base = std::as_const(base_).masks();
  const auto& params = base_.params();
  for (size_t p = 0; p < params.size(); ++p) {
    const torch::Tensor& mask = masks_[entered_ - 1][p].tensor;
    torch::Tensor w = params[p].tensor;
    w.masked_scatter_(base[p].tensor.logical_and(mask.logical_not()), kept_aside_[p]);
  }
  kept_aside_.clear();
  entered_ = 0;
}

double SparsityLevels::sparsity(size_t i) const {
  if (i == 0) return base_.sparsity();
  int64_t total = 0, zeros = 0;
  for (const NamedTensor& m : masks(i)) {
    total += m.tensor.numel();
    zeros += m.tensor.logical_not().sum().item<int64_t>();
  }
  return total == 0 ? 0.0 : static_cast<double>(zeros) / static_cast<double>(total);
}

std::vector<NamedTensor> SparsityLevels::state() const {
  std::vector<NamedTensor> out;
  for (size_t i = 1; i < levels_.size(); ++i) {
    for (const NamedTensor& m : masks(i)) out.push_back({levelMaskName(i, m.name), m.tensor});
  }
  return out;
}

void SparsityLevels::load(const std::map<std::string, torch::Tensor>& saved, const std::string& file) {
  torch::NoGradGuard no_grad;
  for (size_t i = 1; i < levels_.size(); ++i) {
    for (NamedTensor& m : masks_[i - 1]) {
      const std::string name = levelMaskName(i, m.name);
      const auto it = saved.find(name);
      DISTILL_CHECK(it != saved.end(), file, ": no tensor \"", name, "\": the checkpoint was written with other ",
                    "sparsity.levels (or none); the config has ", levels_.size());
      DISTILL_CHECK(it->second.sizes() == m.tensor.sizes(), file, ": tensor \"", name, "\" has shape ",
                    it->second.sizes(), ", the model has ", m.tensor.sizes());
      m.tensor.copy_(it->second.ne(0));
    }
  }
}

std::vector<int64_t> SparsityLevels::checksums() const {
  std::vector<int64_t> out;
  for (size_t i = 1; i < levels_.size(); ++i) {
    for (const NamedTensor& m : masks(i)) out.push_back(maskChecksum(m.tensor));
  }
  return out;
}

}  // namespace distill::sparsity
