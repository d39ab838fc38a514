// The weight masks of one model (DESIGN.md section 4).
//
// A mask M (bool: 1 kept, 0 pruned; same shape as its weight W, one byte per
// entry) means: the model
// computes with W*M; after every optimizer step W <- W*M; gradients of masked
// entries are zeroed. Masks are recomputed from importance scores on the
// schedule's update steps, identically on every worker.
//
//   auto masks = sparsity::MaskSet::select(named_params, job.sparsity());
//   auto criterion = sparsity::makeCriterion(job.sparsity());
//   if (schedule->isUpdateStep(step)) {
//     masks.update(schedule->target(step), *criterion, job.sparsity().scope());
//     masks.applyToWeights();
//     compareAcrossWorkers(masks.checksums());
//   }
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/torch.h>

#include "proto/config.pb.h"
#include "trainer/sparsity/criterion.h"
#include "trainer/sparsity/granularity.h"
#include "trainer/sparsity/mask_ranking.h"
#include "trainer/sparsity/structure_groups.h"
#include "trainer/sparsity/named_tensor.h"

namespace distill::sparsity {

// grad <- 0 where `mask` is 0, in place, in one pass (no inverted-mask copy);
// a NaN or inf gradient at a masked entry becomes 0 too.
void zeroWhereMasked(torch::Tensor& grad, const torch::Tensor& mask);

// 64-bit FNV-1a over a mask's entries in row-major order, one byte per entry
// (1 kept, 0 pruned): equal on all workers iff their masks agree.
int64_t maskChecksum(const torch::Tensor& mask);

class MaskSet {
 public:
  // Selects the prunable parameters (parameter_selection.h: spec.include /
  // spec.exclude); for heads and neurons only the members of `groups` of that
  // kind. Masks start all ones. Throws distill::Error naming the field on an
  // invalid regex or granularity, a parameter the granularity cannot apply
  // to, or (when spec.enabled) an empty selection.
  static MaskSet select(const std::vector<NamedTensor>& params, const config::SparsitySpec& spec,
                        const std::vector<StructureGroup>& groups = {});

  // Recomputes the masks from the criterion's scores at the selected
  // granularity (mask_ranking.h): ranked criteria prune round(sparsity * n)
  // entries (as near as whole units allow), thresholded ones the units whose
  // score is <= the threshold. scope "global" ranks all selected parameters
  // together; "per_layer" ranks each parameter (each group) alone. Ties go to
  // the lower index, so equal scores give equal masks on every worker.
  // Returns how many mask entries changed.
  int64_t update(double sparsity, const ImportanceCriterion& criterion, const std::string& scope);
  // The entries update(sparsity, ...) would prune (bool, one per mask, true =
  // pruned), the masks left as they are: the nested levels of Dynamic
  // Sparsification (sparsity_levels.h) rank with the same scores.
  std::vector<torch::Tensor> prunedAt(double sparsity, const ImportanceCriterion& criterion,
                                      const std::string& scope) const;

  // W <- W * M for every selected parameter (masked entries become +0.0,
  // even if W held inf or NaN there). No autograd.
  void applyToWeights();
  // W <- criterion.effectiveWeight(name) * M: for criteria that freeze the weights.
  void writeEffectiveWeights(const ImportanceCriterion& criterion);
  // grad <- grad * M for every selected parameter that has a gradient.
  void maskGradients() const;

  // The mask of parameter `name`, or nullptr if it is not prunable.
  const torch::Tensor* find(const std::string& name) const;
  // Fraction of zeros over all selected entries (0 for an empty set).
  double sparsity() const;
  // The masks, in selection order: for checkpointing, and for loading
  // (copy_ into the tensors; do not replace them). The mutable overload counts
  // as a change (version() advances).
  std::vector<NamedTensor>& masks();
  const std::vector<NamedTensor>& masks() const;
  // The selected parameters, in the same order as masks().
  const std::vector<NamedTensor>& params() const;
  // One per mask: 64-bit FNV-1a over its entries in row-major order, one
  // byte per entry (1 kept, 0 pruned). Equal on all workers iff masks agree.
  std::vector<int64_t> checksums() const;
  std::vector<std::string> names() const;
  // Fraction of ones, per mask.
  std::vector<double> densities() const;
  const Granularity& granularity() const { return granularity_; }
  double minDensity() const { return min_density_; }
  // Advances whenever the masks may have changed (update, mutable masks()),
  // so the optimizer knows when pruned entries must be re-zeroed.
  uint64_t version() const { return version_; }
  size_t size() const { return masks_.size(); }
  bool empty() const { return masks_.empty(); }

 private:
  std::vector<NamedTensor> params_;
  std::vector<NamedTensor> masks_;
  std::unordered_map<std::string, size_t> index_;
  Granularity granularity_;
  double min_density_ = 0;
  std::shared_ptr<RankingPlan> plan_;
  uint64_t version_ = 0;
};

}  // namespace distill::sparsity
