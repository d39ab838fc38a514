// Dynamic Sparsification (sparsity.levels): one job trains several nested
// sparsity levels of one student, so one run serves several sizes.
//
// Level 0 is the densest; its mask is the MaskSet's (the weights of every
// other level live inside it, and W <- W * M_0 after every step as usual).
// Level i > 0 keeps a subset of level i-1's entries: all levels rank the same
// criterion scores at their own sparsity, and each level's pruned set is
// OR-ed with the previous one's, so nesting holds even where ties or
// min_density would break it. A step trains one level: its forward sees
// W * M_i, the gradient of W * M_i with respect to W is g * M_i, and the
// entries only level i prunes get their values back before the optimizer,
// which treats them as any entry with a zero gradient (their moments keep
// moving them; docs/sparsity.md has the measured alternative).
//
//   SparsityLevels levels(spec, base_masks, seed);
//   levels.update(schedule_target, criterion, scope);   // after base_masks.update
//   levels.enter(levels.levelAt(step));                 // before the forward
//   ... forward, backward, all-reduce ...
//   levels.maskGradients();                             // g * M_i
//   levels.leave();                                     // the entries only level i prunes back
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "proto/config.pb.h"
#include "trainer/sparsity/criterion.h"
#include "trainer/sparsity/mask_set.h"
#include "trainer/sparsity/named_tensor.h"

namespace distill::sparsity {

class SparsityLevels {
 public:
  // spec.levels() ascending (checked by common/config_checks.cpp), at least two;
  // `base` holds level 0's masks and outlives this object.
  SparsityLevels(const config::SparsitySpec& spec, MaskSet& base, uint64_t seed);

  size_t size() const { return levels_.size(); }
  double level(size_t i) const { return levels_.at(i); }
  const std::vector<double>& levels() const { return levels_; }
  // The sparsity level i is pruned to when the last level is at `last_target`
  // (the schedule's target): levels ramp together, in proportion.
  double targetOf(size_t i, double last_target) const;

  // Recomputes the masks of levels 1.. from the criterion's scores; the base
  // masks (level 0) must already be updated for this step. Returns how many
  // entries changed over those levels.
  int64_t update(double last_target, const ImportanceCriterion& criterion, const std::string& scope);

  // The level step `step` trains: "cycle" step % n, "sample" a hash of the
  // job seed and the step (the same on every worker, without communication).
  size_t levelAt(int64_t step) const;

  // The model computes with W * M_level from now on (level 0: nothing to do).
  void enter(size_t level);
  // Gradients of the entries the entered level prunes set to 0.
  void maskGradients() const;
  // The values of the entries only the entered level prunes restored exactly
  // (whatever was written there since enter()).
  void leave();
  // The level entered and not yet left; 0 when none.
  size_t entered() const { return entered_; }

  // Masks of level i (i >= 1), in the base set's order.
  const std::vector<NamedTensor>& masks(size_t i) const { return masks_.at(i - 1); }
  // Fraction of pruned entries of level i over the selected parameters.
  double sparsity(size_t i) const;
  // Every level's masks from 1 on, named "level-<i>/<parameter>", as live tensors.
  std::vector<NamedTensor> state() const;
  // Copies state() back from a checkpoint; errors name `file` and the tensor.
  void load(const std::map<std::string, torch::Tensor>& saved, const std::string& file);
  // One 64-bit FNV-1a per mask of every level from 1 on (masks agree across workers).
  std::vector<int64_t> checksums() const;

 private:
  std::vector<double> levels_;
  bool sample_ = false;
  uint64_t seed_;
  MaskSet& base_;
  std::vector<std::vector<NamedTensor>> masks_;  // levels 1.., each one per base mask
  size_t entered_ = 0;
  std::vector<torch::Tensor> kept_aside_;        // per parameter: its values pruned only by the entered level
};

// Level `level` entered for a scope (evaluating each level): left when the
// scope ends, by an exception too, so the weights are never left masked.
//
//   { EnteredLevel at(levels, i); totals = evaluate(); }
class EnteredLevel {
 public:
  EnteredLevel(SparsityLevels& levels, size_t level) : levels_(levels) { levels_.enter(level); }
  ~EnteredLevel() { levels_.leave(); }
  EnteredLevel(const EnteredLevel&) = delete;
  EnteredLevel& operator=(const EnteredLevel&) = delete;

 private:
  SparsityLevels& levels_;
};

// The name of level i's mask of `param` in checkpoints: "level-<i>/<param>".
std::string levelMaskName(size_t level, const std::string& param);

}  // namespace distill::sparsity
