// Dynamic Sparsification (sparsity.levels): nested masks ranked from one
// score, the step's level seen by the forward only, gradients masked at the
// level, the weights back exactly, and the level masks checkpointed.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "common/error.h"
#include "trainer/optim/adamw.h"
#include "trainer/sparsity/mask_set.h"
#include "trainer/sparsity/pruner.h"
#include "trainer/sparsity/sparsity_levels.h"

namespace distill::sparsity {
namespace {

std::vector<NamedTensor> model() {
  torch::manual_seed(5);
  return {{"layer0.w", torch::randn({8, 8}).requires_grad_(true)},
          {"layer1.w", torch::randn({4, 8}).requires_grad_(true)},
          {"layer0.b", torch::zeros({8}).requires_grad_(true)}};
}

config::SparsitySpec spec(const std::string& schedule, const std::string& order = "cycle") {
  config::SparsitySpec s;
  s.set_enabled(true);
  s.set_criterion("magnitude");
  s.set_granularity("unstructured");
  s.set_scope("global");
  s.set_schedule(schedule);
  for (double l : {0.25, 0.5, 0.75}) s.add_levels(l);
  s.set_level_order(order);
  s.set_final_sparsity(0.75);
  s.set_initial_sparsity(0);
  s.set_warmup_steps(0);
  s.set_cooldown_steps(0);
  s.set_interval(2);
  return s;
}

int64_t zeros(const torch::Tensor& t) { return (t == 0).sum().item<int64_t>(); }

// Level i's kept entries are a subset of level i-1's, for every mask.
void expectNested(const Pruner& pruner) {
  const SparsityLevels& levels = *pruner.levels();
  const auto& base = pruner.masks()->masks();
  for (size_t p = 0; p < base.size(); ++p) {
    torch::Tensor below = base[p].tensor;
    for (size_t i = 1; i < levels.size(); ++i) {
      const torch::Tensor& here = levels.masks(i)[p].tensor;
      EXPECT_FALSE(here.logical_and(below.logical_not()).any().item<bool>())
          << "level " << i << " keeps an entry level " << i - 1 << " prunes in " << base[p].name;
      below = here;
    }
  }
}

TEST(SparsityLevels, NestedMasksAtEachLevelsSparsity) {
  auto params = model();
  Pruner pruner(params, spec("constant"), {}, 20, 1);
  ASSERT_NE(pruner.levels(), nullptr);
  ASSERT_TRUE(pruner.start().updated);
  const SparsityLevels& levels = *pruner.levels();
  ASSERT_EQ(levels.size(), 3u);
  // 96 selected entries (the two matrices): 24, 48 and 72 pruned.
  EXPECT_DOUBLE_EQ(levels.sparsity(0), 0.25);
  EXPECT_DOUBLE_EQ(levels.sparsity(1), 0.5);
  EXPECT_DOUBLE_EQ(levels.sparsity(2), 0.75);
  EXPECT_DOUBLE_EQ(pruner.target(0), 0.25);  // level 0's: what masks() hold
  expectNested(pruner);
  // The weights hold level 0 (W <- W * M_0); the smallest magnitudes go first.
  EXPECT_EQ(zeros(params[0].tensor) + zeros(params[1].tensor), 24);
  const torch::Tensor all = torch::cat({params[0].tensor.detach().abs().flatten(), params[1].tensor.detach().abs().flatten()});
  const torch::Tensor kept_at_2 = torch::cat({levels.masks(2)[0].tensor.flatten(), levels.masks(2)[1].tensor.flatten()});
  EXPECT_GE(all.masked_select(kept_at_2).min().item<float>(), all.masked_select(kept_at_2.logical_not()).max().item<float>());
}

TEST(SparsityLevels, ForwardSeesTheLevelAndTheWeightsComeBackExactly) {
  auto params = model();
  Pruner pruner(params, spec("constant"), {}, 20, 1);
  pruner.start();
  const torch::Tensor before0 = params[0].tensor.detach().clone();
  const torch::Tensor before1 = params[1].tensor.detach().clone();
  const SparsityLevels& levels = *pruner.levels();

  pruner.beforeForward(2);  // cycle: step 2 trains level 2
  EXPECT_EQ(levels.entered(), 2u);
  EXPECT_EQ(zeros(params[0].tensor) + zeros(params[1].tensor), 72);
  EXPECT_TRUE(torch::equal(params[0].tensor.detach(), before0 * levels.masks(2)[0].tensor));
  for (auto& p : params) p.tensor.mutable_grad() = torch::ones_like(p.tensor);
  pruner.beforeAllReduce();
  pruner.afterAllReduce();
  // The gradient of W * M_2 with respect to W: g * M_2.
  EXPECT_TRUE(torch::equal(params[0].tensor.grad(), levels.masks(2)[0].tensor.to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(params[2].tensor.grad(), torch::ones({8})));  // not selected: untouched
  EXPECT_EQ(levels.entered(), 0u);  // the optimizer sees the dense weights, bit for bit
  EXPECT_TRUE(torch::equal(params[0].tensor.detach(), before0));
  EXPECT_TRUE(torch::equal(params[1].tensor.detach(), before1));
  pruner.beforeOptimizer(2);
  pruner.afterOptimizer(3, 0.01);  // step 3 updates no masks

  pruner.beforeForward(3);  // level 0: the weights already are W * M_0
  EXPECT_EQ(levels.entered(), 0u);
  EXPECT_TRUE(torch::equal(params[0].tensor.detach(), before0));
  pruner.afterAllReduce();
  pruner.afterOptimizer(4, 0.01);
}

TEST(SparsityLevels, EnteredLevelLeavesWhenEvaluationThrows) {
  auto params = model();
  Pruner pruner(params, spec("constant"), {}, 20, 1);
  pruner.start();
  const torch::Tensor before = params[0].tensor.detach().clone();
  SparsityLevels& levels = *pruner.levels();
  try {
    EnteredLevel at(levels, 2);
    EXPECT_EQ(levels.entered(), 2u);
    EXPECT_TRUE(torch::equal(params[0].tensor.detach(), before * levels.masks(2)[0].tensor));
    throw Error("evaluation failed");
  } catch (const Error&) {
  }
  EXPECT_EQ(levels.entered(), 0u);
  EXPECT_TRUE(torch::equal(params[0].tensor.detach(), before));
}

// Under AdamW a level-2 step leaves the entries only level 2 prunes alive
// (restored, then moved by their moments like any zero-gradient entry, never
// zeroed), moves the entries level 2 keeps, and keeps level 0's zeros.
TEST(SparsityLevels, AdamWStepKeepsTheDenserLevelsAlive) {
  auto params = model();
  Pruner pruner(params, spec("constant"), {}, 20, 1);
  optim::AdamWOptions options;
  options.weight_decay = 0.1;
  optim::AdamW adam(params, options);
  pruner.start();
  const SparsityLevels& levels = *pruner.levels();
  auto oneStep = [&](int64_t step) {
    pruner.beforeForward(step);
    for (auto& p : params) p.tensor.mutable_grad() = torch::ones_like(p.tensor);
    pruner.beforeAllReduce();
    pruner.afterAllReduce();
    pruner.beforeOptimizer(step);
    adam.step(0.01, pruner.masks());
    pruner.afterOptimizer(step + 1, 0.01);
  };
  oneStep(0);  // level 0: every kept entry gets moments
  oneStep(1);  // level 1 (masks recomputed after it: step 2 is an update step)
  const torch::Tensor before = params[0].tensor.detach().clone();
  oneStep(2);  // level 2; step 3 updates no masks
  const torch::Tensor& m0 = pruner.masks()->masks()[0].tensor;
  const torch::Tensor& m2 = levels.masks(2)[0].tensor;
  const torch::Tensor w = params[0].tensor.detach();
  const torch::Tensor only_level_2_prunes = m0.logical_and(m2.logical_not());
  ASSERT_GT(only_level_2_prunes.sum().item<int64_t>(), 0);
  EXPECT_TRUE(w.masked_select(only_level_2_prunes).ne(0).all().item<bool>());
  // restored before AdamW: one step (lr 0.01) away from their values, which are far larger
  EXPECT_LT((w - before).masked_select(only_level_2_prunes).abs().max().item<float>(), 0.02);
  EXPECT_GT(before.masked_select(only_level_2_prunes).abs().min().item<float>(), 0.1);
  EXPECT_TRUE(w.masked_select(m2).ne(before.masked_select(m2)).all().item<bool>());
  EXPECT_TRUE(w.masked_select(m0.logical_not()).eq(0).all().item<bool>());
}

TEST(SparsityLevels, CycleAndSampleOrders) {
  auto params = model();
  Pruner cycling(params, spec("constant", "cycle"), {}, 20, 1);
  for (int64_t s = 0; s < 6; ++s) EXPECT_EQ(cycling.levels()->levelAt(s), static_cast<size_t>(s % 3));
  Pruner sampling(params, spec("constant", "sample"), {}, 20, 7);
  Pruner same_seed(params, spec("constant", "sample"), {}, 20, 7);
  Pruner other_seed(params, spec("constant", "sample"), {}, 20, 8);
  std::vector<int> counts(3, 0);
  int differ = 0;
  for (int64_t s = 0; s < 3000; ++s) {
    const size_t level = sampling.levels()->levelAt(s);
    ASSERT_EQ(level, same_seed.levels()->levelAt(s));  // every worker agrees without talking
    differ += level != other_seed.levels()->levelAt(s);
    ++counts[level];
  }
  for (int c : counts) EXPECT_NEAR(c, 1000, 100);
  EXPECT_GT(differ, 1500);
}

// Masks recomputed as the weights move stay nested at every update, and the
// levels ramp together with the schedule.
TEST(SparsityLevels, StayNestedThroughTrainingAndRampTogether) {
  auto params = model();
  config::SparsitySpec s = spec("cubic");
  s.set_cooldown_steps(4);
  Pruner pruner(params, s, {}, 20, 1);
  optim::AdamWOptions options;
  options.weight_decay = 0;
  optim::AdamW adam(params, options);
  pruner.start();
  torch::manual_seed(11);
  for (int64_t step = 0; step < 20; ++step) {
    pruner.beforeForward(step);
    for (auto& p : params) p.tensor.mutable_grad() = torch::randn(p.tensor.sizes());
    pruner.beforeAllReduce();
    pruner.afterAllReduce();
    pruner.beforeOptimizer(step);
    adam.step(0.05, pruner.masks());
    if (pruner.afterOptimizer(step + 1, 0.05).updated) expectNested(pruner);
    const double last = pruner.levels()->sparsity(2);
    EXPECT_NEAR(pruner.levels()->sparsity(1), last * 2 / 3, 1.0 / 96 + 1e-9) << "step " << step + 1;
  }
  EXPECT_DOUBLE_EQ(pruner.levels()->sparsity(2), 0.75);
  EXPECT_DOUBLE_EQ(pruner.levels()->sparsity(0), 0.25);
}

TEST(SparsityLevels, CheckpointedStateRestoresTheLevelMasks) {
  auto params = model();
  Pruner pruner(params, spec("constant"), {}, 20, 1);
  pruner.start();
  std::map<std::string, torch::Tensor> saved;
  for (const auto& t : pruner.state()) saved[t.name] = t.tensor.clone();
  ASSERT_TRUE(saved.count("level-1/layer0.w"));
  ASSERT_TRUE(saved.count("level-2/layer1.w"));
  EXPECT_FALSE(saved.count("level-0/layer0.w"));  // level 0 is masks.safetensors

  auto other = model();
  Pruner resumed(other, spec("constant"), {}, 20, 1);
  resumed.load(saved, "sparsity_state.safetensors");
  for (size_t i = 1; i < 3; ++i) {
    for (size_t p = 0; p < 2; ++p) {
      EXPECT_TRUE(torch::equal(resumed.levels()->masks(i)[p].tensor, pruner.levels()->masks(i)[p].tensor));
    }
  }
  EXPECT_EQ(resumed.levels()->checksums(), pruner.levels()->checksums());
  saved.erase("level-2/layer1.w");
  try {
    resumed.load(saved, "ckpt/sparsity_state.safetensors");
    FAIL() << "a missing level mask must be an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ckpt/sparsity_state.safetensors: no tensor \"level-2/layer1.w\""),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace distill::sparsity
