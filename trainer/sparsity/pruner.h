// Everything a worker does for sparsity during a step, in the order of
// DESIGN.md sections 3 and 4: weight masks, the importance criterion, the
// schedule and Child-Tuning gradient masks, behind five calls.
//
//   sparsity::Pruner pruner(params, job.sparsity(), groups, total_steps, job.seed());
//   if (fresh_run) pruner.start();                 // masks before step 0 when the schedule says so,
//                                                  // or sparsity.masks' (initial_masks.h)
//   pruner.beforeForward(step);                    // sparsity.levels: the step's level masks the weights
//   loss.backward();
//   pruner.beforeAllReduce();                      // weight-mask the gradients
//   allreduce(grads);
//   pruner.afterAllReduce();                       // level left; criterion statistics (identical on all workers)
//   pruner.beforeOptimizer(step);                  // Child-Tuning, before the clip
//   clipGradNorm(...);
//   optimizer.step(lr, pruner.masks());
//   auto update = pruner.afterOptimizer(step + 1, lr);   // criterion training, mask update
//   if (update.updated) compare mask checksums across workers;
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proto/config.pb.h"
#include "trainer/sparsity/named_tensor.h"
#include "trainer/sparsity/structure_groups.h"

namespace distill::sparsity {

class MaskSet;
class ImportanceCriterion;
class SparsitySchedule;
class GradientMask;
class SparsityLevels;

struct MaskUpdate {
  bool updated = false;
  int64_t changed = 0;  // mask entries that changed
};

class Pruner {
 public:
  // Weight masks when spec.enabled(), a gradient mask when
  // spec.gradient_mask().kind() is set; either may be absent. `groups` are the
  // model's structure groups (heads/neurons granularity).
  Pruner(const std::vector<NamedTensor>& params, const config::SparsitySpec& spec,
         const std::vector<StructureGroup>& groups, int64_t total_steps, uint64_t seed);
  ~Pruner();

  // A fresh run: applies the masks of step 0 when the schedule updates there.
  MaskUpdate start();
  // sparsity.levels: the model computes with the masks of the level `step`
  // trains until afterAllReduce (sparsity_levels.h). Nothing without levels.
  void beforeForward(int64_t step);
  void beforeAllReduce();
  // The masks beforeAllReduce applies to gradients, for a gradient sync that
  // applies them itself, bucket by bucket; null when it applies none.
  const MaskSet* gradientMasks() const;
  void afterAllReduce();
  void beforeOptimizer(int64_t step);
  // `step_done` optimizer steps are done; `lr` was the step's learning rate.
  MaskUpdate afterOptimizer(int64_t step_done, double lr);

  // Null without weight masks.
  MaskSet* masks() { return masks_.get(); }
  const MaskSet* masks() const { return masks_.get(); }
  // Null without sparsity.levels. Level 0's masks are masks().
  SparsityLevels* levels() { return levels_.get(); }
  const SparsityLevels* levels() const { return levels_.get(); }
  // The schedule's target after `step` steps; NaN for thresholded criteria
  // (soft_movement, learned), whose sparsity is learned, not scheduled. With
  // sparsity.levels, level 0's (that of masks()).
  double target(int64_t step) const;
  double actual() const;
  // Criterion, level-mask and gradient-mask state (masks are separate: masks()->masks()).
  std::vector<NamedTensor> state() const;
  // Loads state() from a checkpoint, then rewrites the weights the model
  // computes with (frozen criteria). Errors name `file`.
  void load(const std::map<std::string, torch::Tensor>& saved, const std::string& file);
  // Bytes of masks, scores and criterion state.
  int64_t stateBytes() const;
  int64_t trainableCount() const;
  std::string criterionName() const;
  const config::SparsitySpec& spec() const { return spec_; }

 private:
  void writeWeights();
  // Recomputes the masks (every level's) for the schedule's target after `step` steps.
  int64_t updateMasks(int64_t step);
  config::SparsitySpec spec_;
  std::unique_ptr<MaskSet> masks_;
  std::unique_ptr<ImportanceCriterion> criterion_;
  std::unique_ptr<SparsitySchedule> schedule_;
  std::unique_ptr<GradientMask> gradient_mask_;
  std::unique_ptr<SparsityLevels> levels_;
  // sparsity.masks, until start() applies them (a resume loads the checkpoint's instead).
  std::map<std::string, torch::Tensor> initial_masks_;
};

}  // namespace distill::sparsity
