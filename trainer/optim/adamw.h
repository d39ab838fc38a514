// AdamW (Loshchilov & Hutter: Adam with decoupled weight decay and bias
// correction) that knows weight masks, so pruned weights stay exactly 0
// (DESIGN.md section 4).
//
//   optim::AdamW optimizer(named_params, optim::adamwOptions(job.optimizer()));
//   loss.backward();  all-reduce gradients;  clipGradNorm(...);
//   optimizer.step(lr_schedule.at(step), &masks);
//
// Per parameter with a gradient g, at step t (counted by this optimizer):
//   W <- W - lr*wd*W                                   decoupled weight decay
//   m <- b1 m + (1-b1) g;   v <- b2 v + (1-b2) g^2
//   W <- W - lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
// the same arithmetic, in the same order, as torch.optim.AdamW. Where the
// parameter's mask is 0: g is zeroed (in param.grad() itself) before the
// moment update, and W, m and v are set to exactly 0 after it, so neither
// weight decay nor stale moments can revive a pruned weight.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "proto/config.pb.h"
#include "trainer/sparsity/mask_set.h"
#include "trainer/sparsity/named_tensor.h"

namespace distill::optim {

using sparsity::NamedTensor;

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  // false: parameters of one dimension (biases, norm weights) are not decayed.
  bool decay_norms_and_biases = false;
};

// AdamWOptions from the job config. Throws distill::Error naming the
// optimizer.* field that is out of range, or optimizer.name if not "adamw".
AdamWOptions adamwOptions(const config::OptimizerSpec& spec);

class AdamW {
 public:
  // `params` are handles to the model's parameters (updated in place). The
  // moments start at zero, one pair per parameter.
  AdamW(std::vector<NamedTensor> params, AdamWOptions options);

  // One optimizer step with learning rate `lr`, using param.grad(); params
  // without a gradient are skipped (their moments do not decay). `masks` may
  // be null (dense training); params it does not know are updated densely.
  // The bias correction uses the optimizer's step count, which every call
  // advances once. `gradients_masked`: the caller guarantees every gradient is
  // exactly 0 where its mask is 0 (the gradient sync applied the masks), so the
  // gradients are not masked a second time (one pass over every weight less).
  void step(double lr, const sparsity::MaskSet* masks, bool gradients_masked = false);
  // Sets every parameter's gradient to zero (keeps the tensors allocated).
  void zeroGrad();
  int64_t stepCount() const { return step_count_; }
  // Bytes of both moments of every parameter this optimizer updates.
  int64_t stateBytes() const;
  const AdamWOptions& options() const { return options_; }

  // "exp_avg/<name>" and "exp_avg_sq/<name>" for every parameter: the live
  // state tensors (not copies), for checkpoints.
  std::vector<NamedTensor> stateTensors() const;
  // Copies the moments from `tensors` (extra keys are ignored) and sets the
  // step count. Throws distill::Error naming a missing or mis-shaped tensor.
  void loadState(const std::map<std::string, torch::Tensor>& tensors, int64_t step_count);

 private:
  struct Moments {
    torch::Tensor exp_avg;
    torch::Tensor exp_avg_sq;
  };
  std::vector<NamedTensor> params_;
  std::vector<Moments> moments_;
  AdamWOptions options_;
  int64_t step_count_ = 0;
  // Mask version (MaskSet::version) last enforced on each parameter's W, m, v.
  static constexpr uint64_t kNever = UINT64_MAX;
  const sparsity::MaskSet* enforced_masks_ = nullptr;
  std::vector<uint64_t> enforced_version_;
};

}  // namespace distill::optim
