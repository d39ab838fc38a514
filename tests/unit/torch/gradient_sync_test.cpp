// GradientSync on one worker (the multi-worker variants are tested under
// mpirun: tests/mpi/gradient_sync.sh) and ZeRO-1's ownership partition.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "proto/config.pb.h"
#include "trainer/comm/gradient_sync.h"
#include "trainer/sparsity/mask_set.h"

namespace distill::comm {
namespace {

std::vector<sparsity::NamedTensor> sized(const std::vector<int64_t>& sizes) {
  std::vector<sparsity::NamedTensor> out;
  for (size_t i = 0; i < sizes.size(); ++i) out.push_back({"p" + std::to_string(i), torch::zeros({sizes[i]})});
  return out;
}

TEST(ContiguousOwners, SplitsElementsEvenlyInOrder) {
  // 100 elements over 2 workers: the first 50 to worker 0, the rest to worker 1.
  EXPECT_EQ(contiguousOwners(sized({30, 20, 10, 40}), 2), (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(contiguousOwners(sized({30, 20, 10, 40}), 1), (std::vector<int>{0, 0, 0, 0}));
  // One large parameter goes to the worker holding its middle element.
  EXPECT_EQ(contiguousOwners(sized({10, 80, 10}), 3), (std::vector<int>{0, 1, 2}));
  // More workers than parameters: some own nothing, the owners stay in order.
  const auto owners = contiguousOwners(sized({5, 5}), 4);
  EXPECT_LE(owners[0], owners[1]);
  EXPECT_EQ(contiguousOwners(sized({}), 2), std::vector<int>{});
}

TEST(GradientSync, OneWorkerMasksAndDefinesGradients) {
  GroupOptions options;
  auto group = WorkerGroup::connect(options);  // size 1: no collectives
  std::vector<sparsity::NamedTensor> params = {{"w", torch::ones({2, 2}).requires_grad_()},
                                               {"b", torch::ones({2}).requires_grad_()}};
  config::SparsitySpec spec;
  spec.set_enabled(true);
  spec.set_granularity("unstructured");
  spec.add_include("w");
  auto masks = sparsity::MaskSet::select(params, spec);
  masks.masks()[0].tensor.copy_(torch::tensor({{true, false}, {false, true}}));
  params[0].tensor.mutable_grad() = torch::full({2, 2}, 3.0f);

  GradientSyncOptions sync_options;
  sync_options.masks = &masks;
  auto sync = makeGradientSync(*group, params, sync_options);
  EXPECT_EQ(sync->ownedParameters().size(), 2u);
  sync->beforeForward();
  sync->backward((params[0].tensor * 0).sum(), /*reduces=*/true);  // adds zero to w.grad
  sync->reduce();
  EXPECT_TRUE(torch::equal(params[0].tensor.grad(), torch::tensor({{3.0f, 0.0f}, {0.0f, 3.0f}})));
  EXPECT_TRUE(torch::equal(params[1].tensor.grad(), torch::zeros({2})));  // had none: zero

  sync_options.zero_stage = 1;
  auto zero = makeGradientSync(*group, params, sync_options);
  EXPECT_EQ(zero->ownedParameters().size(), 2u);  // one worker owns everything
  EXPECT_NE(zero->describe().find("ZeRO-1"), std::string::npos);
}

}  // namespace
}  // namespace distill::comm
