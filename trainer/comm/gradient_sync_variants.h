// The constructors of the GradientSync variants; only gradient_sync.cpp calls them.
#pragma once

#include "trainer/comm/gradient_sync.h"

namespace distill::comm {

std::unique_ptr<GradientSync> makeFlatAllReduceSync(WorkerGroup& group, std::vector<sparsity::NamedTensor> trained,
                                                    const GradientSyncOptions& options);
std::unique_ptr<GradientSync> makeBucketedAllReduceSync(WorkerGroup& group,
                                                        std::vector<sparsity::NamedTensor> trained,
                                                        const GradientSyncOptions& options);
std::unique_ptr<GradientSync> makeZeroShardedSync(WorkerGroup& group, std::vector<sparsity::NamedTensor> trained,
                                                  const GradientSyncOptions& options);

std::unique_ptr<GradientSync> makeZero2ShardedSync(WorkerGroup& group, std::vector<sparsity::NamedTensor> trained,
                                                   const GradientSyncOptions& options);

// ZeRO: the parameters `owner` gives to worker `rank`.
std::vector<sparsity::NamedTensor> ownedBy(const std::vector<sparsity::NamedTensor>& params,
                                           const std::vector<int>& owner, int rank);
// ZeRO: "this worker owns M of T parameter elements", for the start-up log.
std::string ownershipLine(const std::vector<sparsity::NamedTensor>& params, const std::vector<int>& owner, int rank);

// ZeRO: every owner broadcasts its parameters (packed into one buffer) to the others.
void broadcastFromOwners(WorkerGroup& group, const std::vector<sparsity::NamedTensor>& params,
                         const std::vector<int>& owner);

// Gives every parameter without a gradient a zero one (parameters backward did not reach).
void defineMissingGradients(const std::vector<sparsity::NamedTensor>& params);

}  // namespace distill::comm
