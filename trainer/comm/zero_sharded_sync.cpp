// ZeRO stage 1 (Rajbhandari et al.): the AdamW state is sharded over the
// workers. Gradients are averaged as without ZeRO (the bucketed or flat
// variant, so every worker still sees every gradient: the sparsity criteria
// and gradient clipping need them); each worker updates only the parameters
// it owns, a contiguous run of about 1/N of the elements (contiguousOwners),
// and holds AdamW moments for those only; then each owner broadcasts its
// updated parameters, packed into one buffer, to the others.
//
// Masks stay consistent: an owner's update zeroes pruned entries (AdamW knows
// the masks), so every worker receives the same masked weights. Checkpoints
// hold each owner's moments in its own file, keyed by parameter name, so a
// resume on another number of workers re-shards them (checkpoint_io.cpp).
#include "common/error.h"
#include "trainer/comm/gradient_sync_variants.h"

namespace distill::comm {
namespace {

class ZeroShardedSync final : public GradientSync {
 public:
  ZeroShardedSync(WorkerGroup& group, std::vector<sparsity::NamedTensor> trained, const GradientSyncOptions& options)
      : group_(group), trained_(trained), owner_(contiguousOwners(trained, group.size())) {
    GradientSyncOptions inner = options;
    inner.zero_stage = 0;
    reduce_ = makeGradientSync(group, std::move(trained), inner);
  }

  std::vector<sparsity::NamedTensor> ownedParameters() const override {
    return ownedBy(trained_, owner_, group_.rank());
  }

  void beforeForward() override { reduce_->beforeForward(); }
  void beforeBackward(const torch::Tensor& loss) override { reduce_->beforeBackward(loss); }
  void reduce() override { reduce_->reduce(); }

  void afterOptimizer() override { broadcastFromOwners(group_, trained_, owner_); }

  std::string describe() const override {
    return "ZeRO-1: " + ownershipLine(trained_, owner_, group_.rank()) + "; gradients by " + reduce_->describe();
  }

 private:
  WorkerGroup& group_;
  std::vector<sparsity::NamedTensor> trained_;
  std::vector<int> owner_;
  std::unique_ptr<GradientSync> reduce_;
};

}  // namespace

void broadcastFromOwners(WorkerGroup& group, const std::vector<sparsity::NamedTensor>& params,
                         const std::vector<int>& owner) {
  torch::NoGradGuard no_grad;
  for (int w = 0; w < group.size(); ++w) {
    std::vector<torch::Tensor> parts;
    for (size_t i = 0; i < params.size(); ++i) {
      if (owner[i] == w) parts.push_back(params[i].tensor.reshape({-1}));
    }
    if (parts.empty()) continue;
    torch::Tensor packed = torch::cat(parts);
    group.broadcast(packed, w);
    if (w == group.rank()) continue;
    int64_t offset = 0;
    for (size_t i = 0; i < params.size(); ++i) {
      if (owner[i] != w) continue;
      const int64_t n = params[i].tensor.numel();
      params[i].tensor.copy_(packed.narrow(0, offset, n).view_as(params[i].tensor));
      offset += n;
    }
  }
}

std::unique_ptr<GradientSync> makeZeroShardedSync(WorkerGroup& group, std::vector<sparsity::NamedTensor> trained,
                                                  const GradientSyncOptions& options) {
  return std::make_unique<ZeroShardedSync>(group, std::move(trained), options);
}

}  // namespace distill::comm
