// Importance criteria: a score per weight entry; masks keep the highest.
//
//   auto criterion = sparsity::makeCriterion(job.sparsity());   // "magnitude"
//   torch::Tensor s = criterion->score("encoder.ffn.weight", w);  // same shape as w
//
// Adding a criterion: one file with an ImportanceCriterion subclass and one
// line in criterion_registry.cpp. Criteria that accumulate statistics
// (movement, Taylor, Fisher) keep them per parameter name; they must be
// all-reduced before scoring so every worker derives the same mask.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "proto/config.pb.h"

namespace distill::sparsity {

class ImportanceCriterion {
 public:
  virtual ~ImportanceCriterion() = default;
  // The name used in the config (sparsity.criterion).
  virtual std::string name() const = 0;
  // Importance of every entry of `weight` (same shape, no grad); higher = keep.
  virtual torch::Tensor score(const std::string& param_name, const torch::Tensor& weight) const = 0;
};

// The criterion named by spec.criterion(). Throws distill::Error naming
// sparsity.criterion and the known names when unknown.
std::unique_ptr<ImportanceCriterion> makeCriterion(const config::SparsitySpec& spec);

// Names makeCriterion accepts, in registry order.
std::vector<std::string> criterionNames();

}  // namespace distill::sparsity
