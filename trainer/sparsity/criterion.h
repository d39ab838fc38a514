// Importance criteria: a score per weight entry; masks keep the highest.
//
//   auto criterion = sparsity::makeCriterion(job.sparsity());   // "magnitude", "movement", "pst", ...
//   criterion->attach(masks.params());                          // once, before training
//   // every step, after the gradients are all-reduced:
//   criterion->observe(masks.params());
//   torch::Tensor s = criterion->score("layer0.ff1_weight", w);  // same shape as w
//
// Statistics (Taylor, Fisher, movement) are accumulated from the all-reduced
// gradients, which are identical on every worker, so every worker derives the
// same scores and the same masks without a further collective. Criteria that
// freeze the weights (PST, learned masks) own the weight the model computes
// with: W_eff = effectiveWeight(name) * M.
//
// Adding a criterion: one file with an ImportanceCriterion subclass, one line
// in criterion_registry.cpp and the name in common/config_checks.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "proto/config.pb.h"
#include "trainer/sparsity/named_tensor.h"

namespace distill::sparsity {

class ImportanceCriterion {
 public:
  virtual ~ImportanceCriterion() = default;
  // The name used in the config (sparsity.criterion).
  virtual std::string name() const = 0;
  // Called once with the selected parameters (handles into the model), before
  // the first step or checkpoint load. Criteria allocate their state here.
  virtual void attach(const std::vector<NamedTensor>& /*params*/) {}
  // After backward and the all-reduce: params[i].tensor.grad() holds the
  // global-batch gradient of the weight the model computed with (already
  // weight-masked). Accumulates statistics or computes gradients of the
  // criterion's own trainable tensors.
  virtual void observe(const std::vector<NamedTensor>& /*params*/) {}
  // Importance of every entry of `weight` (same shape, no grad); higher = keep.
  virtual torch::Tensor score(const std::string& param_name, const torch::Tensor& weight) const = 0;
  // Thresholded criteria keep the entries (units) whose score exceeds this
  // value, whatever the schedule's target; ranked criteria return nothing.
  virtual std::optional<double> threshold() const { return std::nullopt; }
  // Called after every mask recomputation (Taylor and Fisher restart their sums).
  virtual void onMasksUpdated() {}
  // Whether the criterion freezes the selected weights (PST, learned masks):
  // the optimizer then leaves them alone and step() trains the criterion's tensors.
  virtual bool freezesWeights() const { return false; }
  // After the optimizer step, with the step's learning rate: trains the
  // criterion's own tensors from the gradients observe() computed.
  virtual void step(double /*lr*/) {}
  // Frozen criteria: the dense weight the model computes with before masking
  // (W0 + beta*U V for PST, W0 for learned masks).
  virtual torch::Tensor effectiveWeight(const std::string& param_name) const;
  // State to checkpoint, as live tensors (loading copies into them), with
  // names prefixed by the criterion ("movement/scores/layer0.ff1_weight").
  virtual std::vector<NamedTensor> state() const { return {}; }
  // Copies a checkpoint's state (by the names state() uses) into the live
  // tensors. Errors name `file` and the missing or mis-shaped tensor.
  virtual void load(const std::map<std::string, torch::Tensor>& saved, const std::string& file);
  // Entries of trainable tensors the criterion adds (PST's U,V,A,B,R,C).
  virtual int64_t trainableCount() const { return 0; }
};

// The criterion named by spec.criterion(), configured from `spec`. Throws
// distill::Error naming sparsity.criterion and the known names when unknown.
std::unique_ptr<ImportanceCriterion> makeCriterion(const config::SparsitySpec& spec);

// Names makeCriterion accepts, in registry order.
std::vector<std::string> criterionNames();

// Copies saved tensors into live ones by name (every live one must be saved,
// with its shape). Errors name `file`.
void copyByName(const std::map<std::string, torch::Tensor>& saved, const std::vector<NamedTensor>& live,
                const std::string& file);

// Bytes held by a list of tensors (for the score-memory metric).
int64_t bytesOf(const std::vector<NamedTensor>& tensors);

}  // namespace distill::sparsity
