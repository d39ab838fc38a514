// The pruner's step protocol: weight masks and gradient masks compose, frozen
// criteria keep the optimizer off their weights and write W_eff * M, and the
// checkpointed state restores the same masks and scores.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../scratch_dir.h"
#include "common/error.h"
#include "trainer/data/tensor_io.h"
#include "trainer/optim/adamw.h"
#include "trainer/sparsity/mask_set.h"
#include "trainer/sparsity/pruner.h"

namespace distill::sparsity {
namespace {

std::vector<NamedTensor> model() {
  torch::manual_seed(3);
  return {{"layer0.w", torch::randn({4, 8}).requires_grad_(true)}, {"layer0.b", torch::zeros({4}).requires_grad_(true)}};
}

config::SparsitySpec spec(const std::string& criterion) {
  config::SparsitySpec s;
  s.set_enabled(true);
  s.set_criterion(criterion);
  s.set_granularity("unstructured");
  s.set_scope("global");
  s.set_schedule("constant");
  s.set_final_sparsity(0.5);
  s.set_warmup_steps(0);
  s.set_interval(1);
  s.set_threshold(0.005);
  s.set_score_init(0.01);
  s.set_score_lr(0.01);
  s.mutable_pst()->set_rank(1);
  s.mutable_pst()->set_beta(1);
  s.mutable_pst()->set_alpha1(1);
  s.mutable_pst()->set_alpha2(1);
  s.mutable_pst()->set_lr_scale(1);
  return s;
}

// One training step with a fixed gradient, in the worker's order.
void step(Pruner& pruner, optim::AdamW& adam, std::vector<NamedTensor>& params, int64_t s) {
  for (auto& p : params) p.tensor.mutable_grad() = torch::ones_like(p.tensor) * (s + 1);
  pruner.beforeAllReduce();
  pruner.afterAllReduce();
  pruner.beforeOptimizer(s);
  adam.step(0.01, pruner.masks());
  pruner.afterOptimizer(s + 1, 0.01);
}

TEST(Pruner, WeightAndGradientMasksCompose) {
  auto params = model();
  config::SparsitySpec s = spec("magnitude");
  s.mutable_gradient_mask()->set_kind("child_tuning_f");
  s.mutable_gradient_mask()->set_keep(0.5);
  Pruner pruner(params, s, {}, 10, 1);
  ASSERT_TRUE(pruner.start().updated);
  params[0].tensor.mutable_grad() = torch::ones({4, 8});
  pruner.beforeAllReduce();
  pruner.afterAllReduce();
  pruner.beforeOptimizer(0);
  const torch::Tensor g = params[0].tensor.grad();
  const torch::Tensor& m = *pruner.masks()->find("layer0.w");
  EXPECT_TRUE(torch::equal(g.masked_select(m == 0), torch::zeros({16})));  // weight mask wins
  const torch::Tensor live = g.masked_select(m != 0);
  EXPECT_TRUE(((live == 0) | (live == 2.0f)).all().item<bool>());           // Bernoulli(0.5) / 0.5
}

// Reading the state's size (every report does) is not a mask change: the
// version stays, so AdamW does not re-zero every pruned entry at each step.
TEST(Pruner, StateBytesLeavesTheMasksUnchanged) {
  auto params = model();
  Pruner pruner(params, spec("magnitude"), {}, 10, 1);
  ASSERT_TRUE(pruner.start().updated);
  const uint64_t version = pruner.masks()->version();
  EXPECT_GT(pruner.stateBytes(), 0);
  EXPECT_EQ(pruner.masks()->version(), version);
}

TEST(Pruner, FrozenCriteriaKeepTheOptimizerOffTheirWeights) {
  for (const std::string criterion : {"pst", "learned"}) {
    auto params = model();
    const torch::Tensor w0 = params[0].tensor.detach().clone();
    config::SparsitySpec s = spec(criterion);
    if (criterion == "learned") s.set_final_sparsity(0);
    Pruner pruner(params, s, {}, 10, 1);
    optim::AdamW adam(params, optim::AdamWOptions{});
    pruner.start();
    for (int64_t t = 0; t < 3; ++t) step(pruner, adam, params, t);
    const torch::Tensor& m = *pruner.masks()->find("layer0.w");
    // The bias trained; the weight is the criterion's W_eff times the mask.
    EXPECT_FALSE(torch::equal(params[1].tensor, torch::zeros({4}))) << criterion;
    if (criterion == "learned") {
      EXPECT_TRUE(torch::equal(params[0].tensor, w0 * m)) << criterion;
      EXPECT_TRUE(std::isnan(pruner.target(3)));  // learned sparsity: no scheduled target
      EXPECT_LT(pruner.actual(), 1.0);
    } else {
      EXPECT_NEAR(pruner.actual(), 0.5, 1e-9);
      EXPECT_EQ(pruner.target(3), 0.5);
      EXPECT_TRUE(torch::equal(params[0].tensor.masked_select(m == 0), torch::zeros({16})));
    }
    EXPECT_GT(pruner.trainableCount(), 0) << criterion;
  }
}

TEST(Pruner, StateRestoresScoresAndMasks) {
  auto params = model();
  const config::SparsitySpec s = spec("movement");
  Pruner a(params, s, {}, 10, 1);
  optim::AdamW adam(params, optim::AdamWOptions{});
  for (int64_t t = 0; t < 2; ++t) step(a, adam, params, t);
  std::map<std::string, torch::Tensor> saved;
  for (const auto& t : a.state()) saved[t.name] = t.tensor.clone();
  ASSERT_EQ(saved.count("movement/scores/layer0.w"), 1u);

  auto params2 = model();
  Pruner b(params2, s, {}, 10, 1);
  b.load(saved, "sparsity_state.safetensors");
  for (const auto& t : b.state()) EXPECT_TRUE(torch::equal(t.tensor, saved.at(t.name))) << t.name;
  EXPECT_THROW(b.load({}, "sparsity_state.safetensors"), std::exception);  // a missing tensor is named
  EXPECT_GT(a.stateBytes(), 0);
}

// sparsity.masks with the fixed schedule: the run starts from exactly the
// file's masks, here ones that prune the largest weights (no magnitude ranking
// would), and never changes them; the target is their sparsity.
TEST(Pruner, InitialMasksFromAFileStayFixed) {
  testing::ScratchDir dir;
  auto params = model();
  const torch::Tensor w = params[0].tensor.detach().clone();
  const torch::Tensor keep = w.abs().lt(w.abs().median()).to(torch::kUInt8);  // prunes the larger half
  const torch::Tensor keep_b = torch::tensor({1, 0, 1, 1}, torch::kUInt8);
  data::saveTensors(dir.path("masks.safetensors"), {{"layer0.w", keep}, {"layer0.b", keep_b}});
  config::SparsitySpec s = spec("magnitude");
  s.set_schedule("fixed");
  s.set_masks(dir.path("masks.safetensors"));
  s.set_final_sparsity(0);
  Pruner pruner(params, s, {}, 10, 1);
  ASSERT_EQ(pruner.masks()->size(), 2u);  // include defaults to the file's tensors (the bias too)
  const MaskUpdate u = pruner.start();
  EXPECT_TRUE(u.updated);
  EXPECT_EQ(u.changed, (keep.numel() - keep.sum().item<int64_t>()) + 1);
  const double expected = static_cast<double>(u.changed) / 36.0;
  EXPECT_NEAR(pruner.target(5), expected, 1e-12);
  optim::AdamW adam(params, optim::AdamWOptions{});
  for (int64_t t = 0; t < 4; ++t) step(pruner, adam, params, t);
  EXPECT_TRUE(torch::equal(pruner.masks()->find("layer0.w")->to(torch::kUInt8), keep));
  EXPECT_TRUE(torch::equal(pruner.masks()->find("layer0.b")->to(torch::kUInt8), keep_b));
  const torch::Tensor pruned = params[0].tensor.detach().masked_select(keep == 0);
  EXPECT_TRUE(torch::equal(pruned, torch::zeros_like(pruned)));
  EXPECT_NE(params[0].tensor.detach().masked_select(keep == 1).abs().sum().item<float>(), 0.f);
  EXPECT_NEAR(pruner.actual(), expected, 1e-12);
}

TEST(Pruner, InitialMasksThatDoNotFitAreNamed) {
  testing::ScratchDir dir;
  const auto refused = [&](std::map<std::string, torch::Tensor> tensors, const std::string& include) {
    data::saveTensors(dir.path("m.safetensors"), {tensors.begin(), tensors.end()});
    config::SparsitySpec s = spec("magnitude");
    s.set_schedule("fixed");
    s.set_masks(dir.path("m.safetensors"));
    if (!include.empty()) s.add_include(include);
    auto params = model();
    try {
      Pruner pruner(params, s, {}, 10, 1);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto ones = torch::ones({4, 8}, torch::kUInt8);
  EXPECT_NE(refused({{"layer1.w", ones}}, "").find("has a mask for \"layer1.w\", which the student does not have"),
            std::string::npos) << refused({{"layer1.w", ones}}, "");
  EXPECT_NE(refused({{"layer0.w", ones}}, "layer0\\..*").find("has no mask for \"layer0.b\""), std::string::npos);
  EXPECT_NE(refused({{"layer0.w", torch::ones({8, 4}, torch::kUInt8)}}, "").find("the mask of \"layer0.w\" is [8, 4]"),
            std::string::npos);
  EXPECT_NE(refused({{"layer0.w", ones * 2}}, "").find("holds values other than 0 and 1"), std::string::npos);
  EXPECT_NE(refused({{"layer0.w", torch::ones({4, 8})}}, "").find("a mask is uint8 or bool"), std::string::npos);
}

}  // namespace
}  // namespace distill::sparsity
