// Gradients all-reduced in buckets while backward is still running, by
// LibTorch's own c10d::Reducer (the engine of DistributedDataParallel), not a
// hand-written copy: docs/architecture.md says why.
//
// The Reducer registers a hook on every parameter's gradient accumulator;
// when all gradients of a bucket (about gradient_bucket_mb, the first one 1 MB
// so communication starts early) are ready it calls our communication hook,
// which applies the weight masks to that bucket's gradients, divides by the
// number of workers and launches an asynchronous all-reduce of the bucket. At
// the end of backward the Reducer waits for every bucket (each wait bounded by
// runtime.collective_timeout_seconds). Gradients are views into the bucket
// buffers (gradient_as_bucket_view): no staging copy. Buckets are assigned
// in reverse parameter order, then rebuilt once, after the first step, in the
// order gradients actually became ready, identically on every worker (the
// Reducer broadcasts worker 0's order).
#include <unordered_map>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include "common/error.h"
#include "trainer/comm/c10d_compat.h"
#include "trainer/comm/gradient_sync_variants.h"
#include "trainer/sparsity/mask_set.h"

namespace distill::comm {
namespace {

constexpr int64_t kFirstBucketBytes = 1024 * 1024;  // what DistributedDataParallel uses

struct HookState {
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  // A prunable parameter's mask, by the parameter's TensorImpl.
  std::unordered_map<const c10::TensorImpl*, torch::Tensor> masks;
};

// Masks a bucket's gradients, then averages the bucket over the workers.
// (CommHookInterface itself: Debian's LibTorch does not export the helper
// CppCommHookInterface's parseHookResult calls.)
class MaskedMeanHook final : public c10d::CommHookInterface {
 public:
  explicit MaskedMeanHook(HookState state) : state_(std::move(state)) {}

  // The all-reduce's future holds the list of reduced tensors: the bucket's buffer.
  torch::Tensor parseHookResult(const c10::IValue& result) override {
    return result.isTensor() ? result.toTensor() : result.toTensorVector().at(0);
  }

  c10::intrusive_ptr<c10::ivalue::Future> runHook(c10d::GradBucket& bucket) override {
    if (!state_.masks.empty()) {
      torch::NoGradGuard no_grad;
      const std::vector<torch::Tensor> params = bucket.getParameters();
      std::vector<torch::Tensor> grads = bucket.getGradients();  // views into the bucket's buffer
      for (size_t i = 0; i < params.size(); ++i) {
        const auto it = state_.masks.find(params[i].unsafeGetTensorImpl());
        if (it != state_.masks.end()) sparsity::zeroWhereMasked(grads[i], it->second);
      }
    }
    torch::Tensor& buffer = bucket.getBufferRef();
    buffer.div_(state_.group->getSize());  // before the sum: dividing by 2^k is exact
    std::vector<torch::Tensor> tensors{buffer};
    return state_.group->allreduce(tensors)->getFuture();
  }

 private:
  HookState state_;
};

class BucketedAllReduceSync final : public GradientSync {
 public:
  BucketedAllReduceSync(WorkerGroup& group, std::vector<sparsity::NamedTensor> trained,
                        const GradientSyncOptions& options)
      : group_(group), trained_(std::move(trained)) {
    std::vector<torch::Tensor> reduced;
    std::unordered_map<size_t, std::string> names;
    HookState state{group.processGroup(), {}};
    for (size_t i = 0; i < trained_.size(); ++i) {
      const bool gets_gradient = options.receives_gradient.empty() || options.receives_gradient[i];
      if (!gets_gradient) {
        unreached_.push_back(trained_[i]);
        continue;
      }
      names[reduced.size()] = trained_[i].name;
      reduced.push_back(trained_[i].tensor);
      const torch::Tensor* mask = options.masks ? options.masks->find(trained_[i].name) : nullptr;
      if (mask) state.masks[trained_[i].tensor.unsafeGetTensorImpl()] = *mask;
    }
    DISTILL_CHECK(!reduced.empty(), "gradient sync: no parameter of the student receives a gradient");
    const auto cap = static_cast<int64_t>(options.bucket_mb * 1024 * 1024);
    const int64_t first_cap = std::min(cap, kFirstBucketBytes);
    std::vector<int64_t> reverse_order(reduced.size());
    for (size_t i = 0; i < reduced.size(); ++i) reverse_order[i] = static_cast<int64_t>(reduced.size() - 1 - i);
    auto [buckets, limits] = c10d::compute_bucket_assignment_by_size(
        reduced, {static_cast<size_t>(first_cap), static_cast<size_t>(cap)}, {}, reverse_order);
    num_buckets_ = buckets.size();

    reducer_ = compat::makeReducer<c10d::Reducer>(reduced, std::move(buckets), std::move(limits), group.processGroup(),
                                                  cap, /*find_unused_parameters=*/false,
                                                  /*gradient_as_bucket_view=*/true, std::move(names), first_cap);
    reducer_->register_comm_hook(std::make_unique<MaskedMeanHook>(std::move(state)));
  }

  std::vector<sparsity::NamedTensor> ownedParameters() const override { return trained_; }

  void beforeForward() override {
    // After the first reduced step: buckets in the order gradients became ready (a collective, on every worker).
    reducer_->rebuild_buckets();
    reducer_->prepare_for_forward();
  }

  void beforeBackward(const torch::Tensor& loss) override { reducer_->prepare_for_backward({loss}); }

  void reduce() override {
    // The buckets were reduced during backward; parameters backward does not reach
    // (none, for the built-in models) are averaged here, in one flat all-reduce.
    if (unreached_.empty()) return;
    defineMissingGradients(unreached_);
    std::vector<torch::Tensor> grads;
    for (const auto& p : unreached_) grads.push_back(p.tensor.grad());
    group_.averageGradients(grads);
  }

  std::string describe() const override {
    return "c10d Reducer, " + std::to_string(num_buckets_) + " gradient buckets all-reduced during backward";
  }

 private:
  WorkerGroup& group_;
  std::vector<sparsity::NamedTensor> trained_;
  std::vector<sparsity::NamedTensor> unreached_;
  size_t num_buckets_ = 0;
  std::unique_ptr<c10d::Reducer> reducer_;
};

}  // namespace

std::unique_ptr<GradientSync> makeBucketedAllReduceSync(WorkerGroup& group,
                                                        std::vector<sparsity::NamedTensor> trained,
                                                        const GradientSyncOptions& options) {
  return std::make_unique<BucketedAllReduceSync>(group, std::move(trained), options);
}

}  // namespace distill::comm
