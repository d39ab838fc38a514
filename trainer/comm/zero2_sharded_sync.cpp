// ZeRO stage 2 (Rajbhandari et al.): AdamW state *and* gradients sharded.
// Ownership is ZeRO-1's (contiguousOwners: whole parameters, about 1/N of the
// elements each). Buckets group consecutive parameters of one owner, in
// reverse order (roughly the order backward produces them), up to
// gradient_bucket_mb (0: one bucket per owner). A hook on each parameter's
// gradient accumulator counts the bucket's ready gradients during the step's
// last backward; full buckets are launched in bucket order: weight-masked,
// packed (the gradients themselves are freed), divided by N and *reduced* to
// their owner (c10d reduce, asynchronous); at most two are in flight, and a
// finished bucket is freed on every worker but its owner. After backward each
// worker holds the averaged gradients of its own parameters only: about 1/N
// of the gradient memory, plus a few buckets while backward runs.
//
// What needs a whole gradient on every worker cannot run on this: the global
// clipping norm is summed from the owners' shares (clipGradNorm below); the
// gradient-based sparsity criteria and Child-Tuning_D are refused by the
// config checks (use zero_stage 1 with them). After the optimizer, owners
// broadcast their parameters, as in ZeRO-1.
#include <cmath>
#include <cstdint>
#include <utility>

#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include "common/error.h"
#include "trainer/comm/gradient_sync_variants.h"
#include "trainer/sparsity/mask_set.h"

namespace distill::comm {
namespace {

// What grad_accumulator() hands out (std::shared_ptr<Node> in 1.13 and 2.x so
// far); named by deduction so a LibTorch that changes the pointer type still builds.
using AccumulatorPtr = decltype(torch::autograd::impl::grad_accumulator(std::declval<const torch::Tensor&>()));

struct Bucket {
  int owner = 0;
  std::vector<size_t> params;  // indices into trained_, in packing order
  size_t ready = 0;
  torch::Tensor packed;        // the reduction's buffer while in flight
  c10::intrusive_ptr<c10d::Work> work;
};

class Zero2ShardedSync final : public GradientSync {
 public:
  Zero2ShardedSync(WorkerGroup& group, std::vector<sparsity::NamedTensor> trained, const GradientSyncOptions& options)
      : group_(group), trained_(std::move(trained)), owner_(contiguousOwners(trained_, group.size())) {
    masks_.resize(trained_.size());
    bucket_of_.assign(trained_.size(), kNone);
    // gradient_bucket_mb 0: one bucket per owner.
    const int64_t cap = options.bucket_mb > 0 ? static_cast<int64_t>(options.bucket_mb * 1024 * 1024) : INT64_MAX;
    int64_t bytes = 0;
    for (size_t n = trained_.size(); n-- > 0;) {
      const bool reached = options.receives_gradient.empty() || options.receives_gradient[n];
      if (!reached) {
        unreached_.push_back(n);
        continue;
      }
      if (options.masks) {
        if (const torch::Tensor* m = options.masks->find(trained_[n].name)) masks_[n] = *m;
      }
      const int64_t size = trained_[n].tensor.numel() * trained_[n].tensor.element_size();
      if (buckets_.empty() || buckets_.back().owner != owner_[n] || bytes + size > cap) {
        buckets_.push_back({owner_[n], {}, 0, {}, {}});
        bytes = 0;
      }
      buckets_.back().params.push_back(n);
      bucket_of_[n] = buckets_.size() - 1;
      bytes += size;
    }
    for (size_t n = 0; n < trained_.size(); ++n) {
      if (bucket_of_[n] == kNone) continue;
      auto accumulator = torch::autograd::impl::grad_accumulator(trained_[n].tensor);
      DISTILL_CHECK(accumulator, "ZeRO-2: parameter \"", trained_[n].name, "\" does not require a gradient");
      const uintptr_t key = accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
          [this, n](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
            onGradientReady(n);
            return outputs;
          }));
      hooks_.push_back({std::move(accumulator), key});
    }
  }

  ~Zero2ShardedSync() override {
    for (auto& [node, key] : hooks_) node->del_post_hook(key);
  }

  std::vector<sparsity::NamedTensor> ownedParameters() const override {
    return ownedBy(trained_, owner_, group_.rank());
  }

  void beforeBackward(const torch::Tensor&) override {
    armed_ = true;
    next_launch_ = next_finish_ = 0;
    for (Bucket& b : buckets_) b.ready = 0;
  }

  void reduce() override {
    armed_ = false;
    // Buckets backward did not fill (a parameter got no gradient this step) go now, in bucket order.
    while (next_launch_ < buckets_.size()) launch(next_launch_++);
    while (next_finish_ < next_launch_) finish(next_finish_++);
    if (!unreached_.empty()) {  // parameters no output depends on: averaged whole, on every worker
      std::vector<sparsity::NamedTensor> rest;
      for (size_t n : unreached_) rest.push_back(trained_[n]);
      defineMissingGradients(rest);
      std::vector<torch::Tensor> grads;
      for (const auto& p : rest) grads.push_back(p.tensor.grad());
      group_.averageGradients(grads);
    }
  }

  void afterOptimizer() override { broadcastFromOwners(group_, trained_, owner_); }

  double clipGradNorm(const std::vector<sparsity::NamedTensor>&, double max_norm) override {
    torch::NoGradGuard no_grad;
    // Each gradient lives on one worker (its owner) or, unreached, on all: count each once.
    torch::Tensor squares = torch::zeros({1}, torch::kFloat64);
    for (size_t n = 0; n < trained_.size(); ++n) {
      const torch::Tensor& g = trained_[n].tensor.grad();
      const bool counted_here = bucket_of_[n] == kNone ? group_.rank() == 0 : owner_[n] == group_.rank();
      if (g.defined() && counted_here) squares += g.to(torch::kFloat64).square().sum().cpu();
    }
    group_.allreduce(squares, Reduce::Sum);
    const double norm = std::sqrt(squares.item<double>());
    if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
      const double scale = max_norm / (norm + 1e-6);  // the epsilon torch uses
      for (const auto& p : trained_) {
        if (p.tensor.grad().defined()) p.tensor.grad().mul_(scale);
      }
    }
    return norm;
  }

  std::string describe() const override {
    return "ZeRO-2: " + ownershipLine(trained_, owner_, group_.rank()) + " (AdamW state and gradients), " +
           std::to_string(buckets_.size()) + " gradient buckets reduced to their owners during backward";
  }

 private:
  static constexpr size_t kNone = SIZE_MAX;
  static constexpr size_t kInFlight = 2;

  // Buckets are launched strictly in bucket order, whatever order backward
  // fills them in, so every worker issues the same collectives in the same
  // order even if one of them sees gradients arrive differently.
  void onGradientReady(size_t n) {
    if (!armed_) return;  // an earlier micro-batch: gradients only accumulate
    ++buckets_[bucket_of_[n]].ready;
    while (next_launch_ < buckets_.size() && buckets_[next_launch_].ready == buckets_[next_launch_].params.size()) {
      launch(next_launch_++);
      // At most kInFlight packed buckets at a time: gradient memory stays about 1/N plus a few buckets.
      while (next_launch_ - next_finish_ > kInFlight) finish(next_finish_++);
    }
  }

  // Waits for a bucket's reduce; on its owner the reduced values become the
  // parameters' gradients (views into the packed buffer), elsewhere it is freed.
  void finish(size_t index) {
    Bucket& b = buckets_[index];
    try {
      b.work->wait(group_.timeout());
    } catch (const std::exception& e) {
      DISTILL_FAIL("ZeRO-2 gradient reduce among workers failed or timed out (limit ",
                   group_.timeout().count() / 1000.0, " s, runtime.collective_timeout_seconds) on worker ",
                   group_.rank(), ": ", e.what());
    }
    if (b.owner == group_.rank()) {
      int64_t offset = 0;
      for (size_t n : b.params) {
        const torch::Tensor& p = trained_[n].tensor;
        p.mutable_grad() = b.packed.narrow(0, offset, p.numel()).view_as(p);
        offset += p.numel();
      }
    }
    b.work.reset();
    b.packed = torch::Tensor();
  }

  // Masks, packs and divides the bucket's gradients, starts the reduce to its
  // owner, and frees them on the other workers.
  void launch(size_t index) {
    torch::NoGradGuard no_grad;
    Bucket& b = buckets_[index];
    std::vector<torch::Tensor> parts;
    for (size_t n : b.params) {
      const torch::Tensor& p = trained_[n].tensor;
      torch::Tensor g = p.grad().defined() ? p.grad() : torch::zeros_like(p);
      if (masks_[n].defined()) sparsity::zeroWhereMasked(g, masks_[n]);
      parts.push_back(g.reshape({-1}));
    }
    b.packed = torch::cat(parts).div_(group_.size());
    parts.clear();
    // The packed buffer holds them now (and, on the owner, will hold the reduced values).
    for (size_t n : b.params) trained_[n].tensor.mutable_grad() = torch::Tensor();
    std::vector<torch::Tensor> tensors{b.packed};
    c10d::ReduceOptions options;
    options.rootRank = b.owner;
    options.timeout = group_.timeout();
    b.work = group_.processGroup()->reduce(tensors, options);
  }

  WorkerGroup& group_;
  std::vector<sparsity::NamedTensor> trained_;
  std::vector<int> owner_;
  std::vector<torch::Tensor> masks_;  // per parameter; undefined where not prunable
  std::vector<size_t> bucket_of_;     // per parameter; kNone when unreached
  std::vector<size_t> unreached_;
  std::vector<Bucket> buckets_;
  std::vector<std::pair<AccumulatorPtr, uintptr_t>> hooks_;
  bool armed_ = false;
  size_t next_launch_ = 0;  // the next bucket to launch, in bucket order
  size_t next_finish_ = 0;  // the oldest bucket launched and not yet finished
};

}  // namespace

std::unique_ptr<GradientSync> makeZero2ShardedSync(WorkerGroup& group, std::vector<sparsity::NamedTensor> trained,
                                                   const GradientSyncOptions& options) {
  return std::make_unique<Zero2ShardedSync>(group, std::move(trained), options);
}

}  // namespace distill::comm
