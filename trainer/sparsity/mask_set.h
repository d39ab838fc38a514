// The weight masks of one model (DESIGN.md section 4).
//
// A mask M (0/1, same shape and dtype as its weight W) means: the model
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
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/torch.h>

#include "proto/config.pb.h"
#include "trainer/sparsity/criterion.h"
#include "trainer/sparsity/named_tensor.h"

namespace distill::sparsity {

class MaskSet {
 public:
  // Selects the prunable parameters: names matching any spec.include regex
  // (std::regex_search, so unanchored; default: dim() >= 2 and the name does
  // not contain "embed") and no spec.exclude regex. Masks start all ones.
  // Throws distill::Error naming the field on an invalid regex, a granularity
  // other than "unstructured", or (when spec.enabled) an empty selection.
  static MaskSet select(const std::vector<NamedTensor>& params, const config::SparsitySpec& spec);

  // Recomputes the masks so that exactly round(sparsity * n) of the n
  // selected entries are 0: the lowest scores, ties broken by lower index
  // first (parameters in selection order, entries in row-major order), so
  // equal weights give equal masks on every worker. scope "global" ranks all
  // selected entries together; "per_layer" ranks each parameter alone
  // (round(sparsity * n_i) each). Returns how many mask entries changed.
  int64_t update(double sparsity, const ImportanceCriterion& criterion, const std::string& scope);

  // W <- W * M for every selected parameter (masked entries become +0.0,
  // even if W held inf or NaN there). No autograd.
  void applyToWeights();
  // grad <- grad * M for every selected parameter that has a gradient.
  void maskGradients();

  // The mask of parameter `name`, or nullptr if it is not prunable.
  const torch::Tensor* find(const std::string& name) const;
  // Fraction of zeros over all selected entries (0 for an empty set).
  double sparsity() const;
  // The masks, in selection order: for checkpointing, and for loading
  // (copy_ into the tensors; do not replace them).
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
  size_t size() const { return masks_.size(); }
  bool empty() const { return masks_.empty(); }

 private:
  std::vector<NamedTensor> params_;
  std::vector<NamedTensor> masks_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace distill::sparsity
