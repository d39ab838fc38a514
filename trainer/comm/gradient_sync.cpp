#include "trainer/comm/gradient_sync.h"

#include "common/error.h"
#include "trainer/comm/gradient_sync_variants.h"
#include "trainer/optim/grad_clip.h"

namespace distill::comm {

std::unique_ptr<GradientSync> makeGradientSync(WorkerGroup& group, std::vector<sparsity::NamedTensor> trained,
                                               const GradientSyncOptions& options) {
  DISTILL_CHECK(options.zero_stage >= 0 && options.zero_stage <= 2, "runtime.zero_stage: must be 0, 1 or 2, got ",
                options.zero_stage);
  if (options.zero_stage == 2 && group.processGroup()) return makeZero2ShardedSync(group, std::move(trained), options);
  if (options.zero_stage >= 1) return makeZeroShardedSync(group, std::move(trained), options);  // one worker: no sharding
  if (options.bucket_mb > 0 && group.processGroup()) {
    return makeBucketedAllReduceSync(group, std::move(trained), options);
  }
  return makeFlatAllReduceSync(group, std::move(trained), options);
}

void GradientSync::backward(const torch::Tensor& loss, bool reduces) {
  if (reduces) beforeBackward(loss);
  try {
    loss.backward();
  } catch (const c10::Error& e) {
    // Gradient buckets are reduced inside backward: a dead or stalled peer surfaces here.
    DISTILL_FAIL("backward failed (gradient buckets are reduced during backward, each wait bounded by "
                 "runtime.collective_timeout_seconds): ", e.what_without_backtrace());
  }
}

double GradientSync::clipGradNorm(const std::vector<sparsity::NamedTensor>& params, double max_norm) {
  return optim::clipGradNorm(params, max_norm);
}

std::vector<int> contiguousOwners(const std::vector<sparsity::NamedTensor>& params, int workers) {
  int64_t total = 0;
  for (const auto& p : params) total += p.tensor.numel();
  std::vector<int> owner(params.size(), 0);
  int64_t before = 0;  // elements of the parameters before i
  for (size_t i = 0; i < params.size(); ++i) {
    // The owner whose share [w*total/N, (w+1)*total/N) holds the parameter's middle element.
    const int64_t middle = before + params[i].tensor.numel() / 2;
    owner[i] = total == 0 ? 0 : static_cast<int>(std::min<int64_t>(workers - 1, middle * workers / total));
    before += params[i].tensor.numel();
  }
  return owner;
}

std::vector<sparsity::NamedTensor> ownedBy(const std::vector<sparsity::NamedTensor>& params,
                                           const std::vector<int>& owner, int rank) {
  std::vector<sparsity::NamedTensor> mine;
  for (size_t i = 0; i < params.size(); ++i) {
    if (owner[i] == rank) mine.push_back(params[i]);
  }
  return mine;
}

std::string ownershipLine(const std::vector<sparsity::NamedTensor>& params, const std::vector<int>& owner, int rank) {
  int64_t mine = 0, total = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    total += params[i].tensor.numel();
    if (owner[i] == rank) mine += params[i].tensor.numel();
  }
  return "this worker owns " + std::to_string(mine) + " of " + std::to_string(total) + " parameter elements";
}

void defineMissingGradients(const std::vector<sparsity::NamedTensor>& params) {
  for (const auto& p : params) {
    if (!p.tensor.grad().defined()) p.tensor.mutable_grad() = torch::zeros_like(p.tensor);
  }
}

}  // namespace distill::comm
