// One all-reduce of every gradient after backward (runtime.gradient_bucket_mb: 0,
// and the single-worker case): gradients are concatenated into one buffer,
// reduced, and copied back. Simple, no overlap with backward; the baseline the
// bucketed variant is measured against.
#include "trainer/comm/gradient_sync_variants.h"
#include "trainer/sparsity/mask_set.h"

namespace distill::comm {
namespace {

class FlatAllReduceSync final : public GradientSync {
 public:
  FlatAllReduceSync(WorkerGroup& group, std::vector<sparsity::NamedTensor> trained, const sparsity::MaskSet* masks)
      : group_(group), trained_(std::move(trained)), masks_(masks) {}

  std::vector<sparsity::NamedTensor> ownedParameters() const override { return trained_; }
  void beforeBackward(const torch::Tensor&) override {}

  void reduce() override {
    torch::NoGradGuard no_grad;
    if (masks_) masks_->maskGradients();
    defineMissingGradients(trained_);
    std::vector<torch::Tensor> grads;
    grads.reserve(trained_.size());
    for (const auto& p : trained_) grads.push_back(p.tensor.grad());
    group_.averageGradients(grads);
  }

  std::string describe() const override {
    return group_.size() == 1 ? "one worker: no reduction" : "one flat all-reduce after backward";
  }

 private:
  WorkerGroup& group_;
  std::vector<sparsity::NamedTensor> trained_;
  const sparsity::MaskSet* masks_;
};

}  // namespace

std::unique_ptr<GradientSync> makeFlatAllReduceSync(WorkerGroup& group, std::vector<sparsity::NamedTensor> trained,
                                                    const GradientSyncOptions& options) {
  return std::make_unique<FlatAllReduceSync>(group, std::move(trained), options.masks);
}

}  // namespace distill::comm
