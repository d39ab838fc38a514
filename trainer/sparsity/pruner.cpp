#include "trainer/sparsity/pruner.h"

#include <limits>
#include <utility>

#include "trainer/sparsity/criterion.h"
#include "trainer/sparsity/gradient_mask.h"
#include "trainer/sparsity/initial_masks.h"
#include "trainer/sparsity/mask_set.h"
#include "trainer/sparsity/schedule.h"
#include "trainer/sparsity/sparsity_levels.h"

namespace distill::sparsity {

Pruner::Pruner(const std::vector<NamedTensor>& params, const config::SparsitySpec& spec,
               const std::vector<StructureGroup>& groups, int64_t total_steps, uint64_t seed)
    : spec_(spec) {
  if (spec.enabled()) {
    config::SparsitySpec selection = spec;
    if (spec.has_masks()) {
      initial_masks_ = readInitialMasks(spec.masks());
      checkInitialMasks(initial_masks_, params, spec.masks());
      if (selection.include().empty()) {
        for (const auto& [name, mask] : initial_masks_) selection.add_include(exactPattern(name));
      }
    }
    masks_ = std::make_unique<MaskSet>(MaskSet::select(params, selection, groups));
    if (!initial_masks_.empty()) {
      checkInitialSelection(initial_masks_, *masks_, spec.masks());
      if (spec_.schedule() == "fixed") spec_.set_final_sparsity(sparsityOf(initial_masks_));
    }
    criterion_ = makeCriterion(spec_);
    criterion_->attach(masks_->params());
    schedule_ = makeSchedule(spec_, total_steps);
    if (spec_.levels_size() > 0) levels_ = std::make_unique<SparsityLevels>(spec_, *masks_, seed);
  }
  gradient_mask_ = makeGradientMask(spec.gradient_mask(), params, seed);
}

Pruner::~Pruner() = default;

void Pruner::writeWeights() {
  if (criterion_->freezesWeights()) {
    masks_->writeEffectiveWeights(*criterion_);
  } else {
    masks_->applyToWeights();
  }
}

MaskUpdate Pruner::start() {
  if (masks_ && !initial_masks_.empty()) {  // sparsity.masks: exactly the file's masks
    MaskUpdate u{true, 0};
    for (auto& m : masks_->masks()) {
      const torch::Tensor& loaded = initial_masks_.at(m.name);
      u.changed += m.tensor.ne(loaded).sum().item<int64_t>();
      m.tensor.copy_(loaded);
    }
    initial_masks_.clear();
    criterion_->onMasksUpdated();
    writeWeights();
    return u;
  }
  if (!masks_ || !schedule_->isUpdateStep(0)) return {};
  MaskUpdate u{true, updateMasks(0)};
  criterion_->onMasksUpdated();
  writeWeights();
  return u;
}

int64_t Pruner::updateMasks(int64_t step) {
  const double last = schedule_->target(step);
  if (!levels_) return masks_->update(last, *criterion_, spec_.scope());
  const int64_t changed = masks_->update(levels_->targetOf(0, last), *criterion_, spec_.scope());
  return changed + levels_->update(last, *criterion_, spec_.scope());
}

void Pruner::beforeForward(int64_t step) {
  if (levels_) levels_->enter(levels_->levelAt(step));
}

void Pruner::beforeAllReduce() {
  if (const MaskSet* m = gradientMasks()) m->maskGradients();
}

const MaskSet* Pruner::gradientMasks() const {
  // Frozen criteria need the gradient of masked entries too (the straight-through
  // estimator lets a pruned entry's score rise again); the optimizer never sees it.
  return masks_ && !criterion_->freezesWeights() ? masks_.get() : nullptr;
}

void Pruner::afterAllReduce() {
  if (!masks_) return;
  if (levels_) {
    levels_->maskGradients();  // the workers' sum: every worker masks it alike
    levels_->leave();          // AdamW sees the dense weights (docs/sparsity.md: moments keep moving them)
  }
  criterion_->observe(masks_->params());
  if (criterion_->freezesWeights()) {
    for (const auto& p : masks_->params()) {
      const_cast<torch::Tensor&>(p.tensor).mutable_grad() = torch::Tensor();  // frozen: the optimizer skips it
    }
  }
}

void Pruner::beforeOptimizer(int64_t step) {
  if (gradient_mask_) gradient_mask_->apply(step);
}

MaskUpdate Pruner::afterOptimizer(int64_t step_done, double lr) {
  if (!masks_) return {};
  criterion_->step(lr);
  MaskUpdate u;
  if (schedule_->isUpdateStep(step_done)) {
    u.updated = true;
    u.changed = updateMasks(step_done);
    criterion_->onMasksUpdated();
  }
  if (u.updated || criterion_->freezesWeights()) writeWeights();
  return u;
}

double Pruner::target(int64_t step) const {
  if (!schedule_) return 0.0;
  // Thresholded criteria learn their sparsity: there is no target to report.
  if (criterion_->threshold()) return std::numeric_limits<double>::quiet_NaN();
  return levels_ ? levels_->targetOf(0, schedule_->target(step)) : schedule_->target(step);
}

double Pruner::actual() const { return masks_ ? masks_->sparsity() : 0.0; }

std::vector<NamedTensor> Pruner::state() const {
  std::vector<NamedTensor> out;
  if (criterion_) out = criterion_->state();
  if (levels_) {
    for (const auto& t : levels_->state()) out.push_back(t);
  }
  if (gradient_mask_) {
    for (const auto& t : gradient_mask_->state()) out.push_back(t);
  }
  return out;
}

void Pruner::load(const std::map<std::string, torch::Tensor>& saved, const std::string& file) {
  initial_masks_.clear();  // a resumed run has the checkpoint's masks
  if (criterion_) criterion_->load(saved, file);
  if (levels_) levels_->load(saved, file);
  if (gradient_mask_) gradient_mask_->load(saved, file);
  if (masks_ && criterion_->freezesWeights()) masks_->writeEffectiveWeights(*criterion_);
}

int64_t Pruner::stateBytes() const {
  int64_t bytes = bytesOf(state());
  // Through the const overload: the mutable masks() advances the mask version,
  // which would make AdamW re-zero every pruned entry at the next step.
  if (masks_) bytes += bytesOf(std::as_const(*masks_).masks());
  return bytes;
}

int64_t Pruner::trainableCount() const { return criterion_ ? criterion_->trainableCount() : 0; }

std::string Pruner::criterionName() const { return criterion_ ? criterion_->name() : ""; }

}  // namespace distill::sparsity
