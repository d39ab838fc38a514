// How workers combine their gradients: the GradientSync seam of DESIGN.md
// section 10, chosen once at set-up from runtime.gradient_bucket_mb and
// runtime.zero_stage. After sync.reduce() every trained parameter's gradient
// is its mean over the workers, with the weight masks applied.
//
//   auto sync = comm::makeGradientSync(group, trained, options);
//   optim::AdamW optimizer(sync->ownedParameters(), ...);
//   sync->beforeForward();            // once per optimizer step
//   sync->backward(loss, last);       // per micro-batch; the last one's backward reduces
//   sync->reduce();                   // gradients are the workers' mean
//   sync->clipGradNorm(trained, max_norm);
//   optimizer.step(...);
//   sync->afterOptimizer();           // ZeRO: owners send the updated parameters
//
// Variants, one file each:
//   flat_allreduce_sync.cpp     one all-reduce of every gradient after backward (gradient_bucket_mb 0)
//   bucketed_allreduce_sync.cpp LibTorch's c10d::Reducer: buckets all-reduced from autograd hooks as
//                               they fill, overlapped with the rest of backward (the default)
//   zero_sharded_sync.cpp       ZeRO-1: bucketed gradients, AdamW state and update sharded by owner,
//                               parameters broadcast by their owners after the step
//   zero2_sharded_sync.cpp      ZeRO-2: as ZeRO-1, and each gradient bucket is reduced to its owner
//                               during backward and freed elsewhere
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "trainer/comm/worker_group.h"
#include "trainer/sparsity/named_tensor.h"

namespace distill::sparsity {
class MaskSet;
}

namespace distill::comm {

struct GradientSyncOptions {
  double bucket_mb = 25;                     // 0: one flat all-reduce after backward
  int zero_stage = 0;                        // 0, 1 or 2
  const sparsity::MaskSet* masks = nullptr;  // weight masks applied to gradients before reduction; may be null
  // Per trained parameter: whether backward gives it a gradient (the Reducer
  // waits for every parameter it holds). Empty: all do.
  std::vector<bool> receives_gradient;
};

class GradientSync {
 public:
  virtual ~GradientSync() = default;
  // The parameters whose AdamW state and update live on this worker: all of
  // them, or (ZeRO-1 and 2) this worker's contiguous share.
  virtual std::vector<sparsity::NamedTensor> ownedParameters() const = 0;
  // Once per optimizer step, before the first forward.
  virtual void beforeForward() {}
  // loss.backward(); when `reduces` (the step's last micro-batch) this
  // backward also launches the reduction. A failure inside it (a bucket's
  // collective timed out) names runtime.collective_timeout_seconds.
  void backward(const torch::Tensor& loss, bool reduces);
  // Before the backward whose gradients are reduced (backward() calls it).
  virtual void beforeBackward(const torch::Tensor& loss) = 0;
  // After that backward: every gradient this worker keeps (all of them, or with
  // ZeRO-2 those of ownedParameters()) is defined and is the masked mean over workers.
  virtual void reduce() = 0;
  // Global-norm clipping (optim/grad_clip.h) of the reduced gradients; the
  // norm over all of them, also when each worker holds only its share.
  virtual double clipGradNorm(const std::vector<sparsity::NamedTensor>& params, double max_norm);
  // After the optimizer updated ownedParameters(): every worker holds every parameter.
  virtual void afterOptimizer() {}
  // A line for the log: the variant and its buckets or shards.
  virtual std::string describe() const = 0;
};

std::unique_ptr<GradientSync> makeGradientSync(WorkerGroup& group, std::vector<sparsity::NamedTensor> trained,
                                               const GradientSyncOptions& options);

// ZeRO-1's partition: parameter i belongs to owner[i]; owners take contiguous
// runs of parameters of about total/workers elements each, the same on every worker.
std::vector<int> contiguousOwners(const std::vector<sparsity::NamedTensor>& params, int workers);

}  // namespace distill::comm
