// Weight masks: selection, exact global and per-layer magnitude masks with
// ties, application to weights and gradients, checksums.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/sparsity/magnitude_criterion.h"
#include "trainer/sparsity/mask_set.h"

namespace distill::sparsity {
namespace {

torch::Tensor matrix(std::vector<double> values) { return torch::tensor(values, torch::kFloat).reshape({2, 2}); }

config::SparsitySpec spec() {
  config::SparsitySpec s;
  s.set_enabled(true);
  s.set_granularity("unstructured");
  return s;
}

// Two prunable matrices plus a bias and an embedding that the default selection skips.
std::vector<NamedTensor> model(std::vector<double> a, std::vector<double> b) {
  return {{"embed.weight", matrix({9, 9, 9, 9})},
          {"layer.a.weight", matrix(a)},
          {"layer.a.bias", torch::ones({2})},
          {"layer.b.weight", matrix(b)}};
}

TEST(MaskSet, DefaultSelectionSkipsVectorsAndEmbeddings) {
  const MaskSet masks = MaskSet::select(model({1, 2, 3, 4}, {5, 6, 7, 8}), spec());
  EXPECT_EQ(masks.names(), (std::vector<std::string>{"layer.a.weight", "layer.b.weight"}));
  EXPECT_EQ(masks.find("layer.a.bias"), nullptr);
  ASSERT_NE(masks.find("layer.a.weight"), nullptr);
  EXPECT_TRUE(torch::equal(*masks.find("layer.a.weight"), torch::ones({2, 2}, torch::kBool)));
  EXPECT_EQ(masks.sparsity(), 0.0);
}

TEST(MaskSet, IncludeAndExcludeRegexes) {
  config::SparsitySpec s = spec();
  s.add_include("\\.bias$");
  s.add_include("^layer\\.b\\.");
  s.add_exclude("b\\.weight");
  EXPECT_EQ(MaskSet::select(model({1, 2, 3, 4}, {5, 6, 7, 8}), s).names(),
            (std::vector<std::string>{"layer.a.bias"}));

  config::SparsitySpec bad = spec();
  bad.add_include("layer.(");
  try {
    MaskSet::select(model({1, 2, 3, 4}, {5, 6, 7, 8}), bad);
    FAIL() << "invalid regex accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sparsity.include[0]"), std::string::npos) << e.what();
  }
  config::SparsitySpec none = spec();
  none.add_include("^nothing$");
  EXPECT_THROW(MaskSet::select(model({1, 2, 3, 4}, {5, 6, 7, 8}), none), Error);
}

TEST(MaskSet, GlobalMagnitudeBreaksTiesByIndex) {
  // |a| = [0.1, 0.5, 0.5, 0.2], |b| = [0.3, 0.1, 0.1, 0.9]; one ranking over 8 entries
  // (index: a0..a3 = 0..3, b0..b3 = 4..7), ascending, ties by index:
  //   0.1(a0) 0.1(b1) 0.1(b2) 0.2(a3) 0.3(b0) 0.5(a1) 0.5(a2) 0.9(b3)
  MaskSet masks = MaskSet::select(model({0.1, -0.5, 0.5, 0.2}, {0.3, 0.1, -0.1, 0.9}), spec());
  const MagnitudeCriterion magnitude;
  // 25%: round(0.25 * 8) = 2 pruned: a0 and b1 (b2 ties with b1 but has the higher index)
  EXPECT_EQ(masks.update(0.25, magnitude, "global"), 2);
  EXPECT_TRUE(torch::equal(*masks.find("layer.a.weight"), matrix({0, 1, 1, 1}).to(torch::kBool)));
  EXPECT_TRUE(torch::equal(*masks.find("layer.b.weight"), matrix({1, 0, 1, 1}).to(torch::kBool)));
  // 50%: 4 pruned: a0 b1 b2 a3; two entries change (b2, a3)
  EXPECT_EQ(masks.update(0.5, magnitude, "global"), 2);
  EXPECT_TRUE(torch::equal(*masks.find("layer.a.weight"), matrix({0, 1, 1, 0}).to(torch::kBool)));
  EXPECT_TRUE(torch::equal(*masks.find("layer.b.weight"), matrix({1, 0, 0, 1}).to(torch::kBool)));
  EXPECT_DOUBLE_EQ(masks.sparsity(), 0.5);
  // 0.3 * 8 = 2.4 rounds to 2 pruned: back to the 25% masks, 2 entries change
  EXPECT_EQ(masks.update(0.3, magnitude, "global"), 2);
  EXPECT_DOUBLE_EQ(masks.sparsity(), 0.25);
}

TEST(MaskSet, GlobalAndPerLayerDiffer) {
  // |small| = [1, 2, 3, 4], |large| = [10, 20, 10, 40]
  MaskSet masks = MaskSet::select(model({1, -2, 3, 4}, {-10, 20, 10, -40}), spec());
  const MagnitudeCriterion magnitude;
  // global 50%: the 4 smallest of 8 are all of `small`
  EXPECT_EQ(masks.update(0.5, magnitude, "global"), 4);
  EXPECT_TRUE(torch::equal(*masks.find("layer.a.weight"), matrix({0, 0, 0, 0}).to(torch::kBool)));
  EXPECT_TRUE(torch::equal(*masks.find("layer.b.weight"), matrix({1, 1, 1, 1}).to(torch::kBool)));
  EXPECT_EQ(masks.densities(), (std::vector<double>{0.0, 1.0}));
  // per layer 25%: round(0.25 * 4) = 1 each: small loses 1 (index 0); large has a tie
  // 10 (index 0) / 10 (index 2) and loses index 0. Changes: small 3 back on, large 1 off = 4.
  EXPECT_EQ(masks.update(0.25, magnitude, "per_layer"), 4);
  EXPECT_TRUE(torch::equal(*masks.find("layer.a.weight"), matrix({0, 1, 1, 1}).to(torch::kBool)));
  EXPECT_TRUE(torch::equal(*masks.find("layer.b.weight"), matrix({0, 1, 1, 1}).to(torch::kBool)));
  EXPECT_EQ(masks.densities(), (std::vector<double>{0.75, 0.75}));
  // same target again: nothing changes
  EXPECT_EQ(masks.update(0.25, magnitude, "per_layer"), 0);
  // extremes
  EXPECT_EQ(masks.update(1.0, magnitude, "global"), 6);
  EXPECT_DOUBLE_EQ(masks.sparsity(), 1.0);
  EXPECT_EQ(masks.update(0.0, magnitude, "per_layer"), 8);
  EXPECT_DOUBLE_EQ(masks.sparsity(), 0.0);

  EXPECT_THROW(masks.update(0.5, magnitude, "per_row"), Error);
  EXPECT_THROW(masks.update(1.5, magnitude, "global"), Error);
}

TEST(MaskSet, AppliesToWeightsAndGradients) {
  std::vector<NamedTensor> params = model({1, -2, 3, 4}, {-10, 20, 10, -40});
  for (NamedTensor& p : params) p.tensor.requires_grad_();
  MaskSet masks = MaskSet::select(params, spec());
  masks.update(0.25, MagnitudeCriterion(), "per_layer");  // masks [0,1,1,1] and [0,1,1,1]
  masks.applyToWeights();
  const torch::Tensor& b = params[3].tensor;
  EXPECT_TRUE(torch::equal(b.detach(), matrix({0, 20, 10, -40})));
  EXPECT_FALSE(std::signbit(b[0][0].item<float>())) << "a pruned -10 must become +0.0";
  EXPECT_TRUE(torch::equal(params[1].tensor.detach(), matrix({0, -2, 3, 4})));
  EXPECT_TRUE(torch::equal(params[2].tensor.detach(), torch::ones({2})));  // not prunable

  b.mutable_grad() = matrix({5, 6, 7, 8});
  masks.maskGradients();
  EXPECT_TRUE(torch::equal(b.grad(), matrix({0, 6, 7, 8})));
  masks.maskGradients();  // params without a grad (a.weight) are skipped
  EXPECT_FALSE(params[1].tensor.grad().defined());
}

TEST(MaskSet, ChecksumsAreFnv1aAndChangeWhenOneEntryFlips) {
  std::vector<NamedTensor> params = {{"w", torch::tensor({-1.0f, 2.0f}).reshape({1, 2})}};
  MaskSet masks = MaskSet::select(params, spec());
  masks.update(0.5, MagnitudeCriterion(), "global");  // pattern [0, 1]
  // FNV-1a 64: h = 14695981039346656037; per byte: h ^= byte; h *= 1099511628211 (mod 2^64)
  uint64_t h = 14695981039346656037ULL;
  h = (h ^ 0u) * 1099511628211ULL;
  h = (h ^ 1u) * 1099511628211ULL;
  EXPECT_EQ(masks.checksums(), (std::vector<int64_t>{static_cast<int64_t>(h)}));

  // identical weights on another "worker" give identical checksums; one flip changes only that mask
  MaskSet a = MaskSet::select(model({0.1, -0.5, 0.5, 0.2}, {0.3, 0.1, -0.1, 0.9}), spec());
  MaskSet b = MaskSet::select(model({0.1, -0.5, 0.5, 0.2}, {0.3, 0.1, -0.1, 0.9}), spec());
  a.update(0.5, MagnitudeCriterion(), "global");
  b.update(0.5, MagnitudeCriterion(), "global");
  EXPECT_EQ(a.checksums(), b.checksums());
  b.masks()[1].tensor[1][1] = 0.0;
  const std::vector<int64_t> before = a.checksums(), after = b.checksums();
  EXPECT_EQ(before[0], after[0]);
  EXPECT_NE(before[1], after[1]);
}

// Masks are bool (one byte per entry) whatever the weight's dtype, on the weight's device.
TEST(MaskSet, MasksAreBoolForAnyWeightDtype) {
  std::vector<NamedTensor> params = {{"w", torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kDouble).reshape({2, 2})}};
  MaskSet masks = MaskSet::select(params, spec());
  EXPECT_EQ(masks.masks()[0].tensor.scalar_type(), torch::kBool);
  EXPECT_EQ(masks.update(0.5, MagnitudeCriterion(), "global"), 2);
  masks.applyToWeights();
  EXPECT_TRUE(torch::equal(params[0].tensor, torch::tensor({0.0, 0.0, 3.0, 4.0}, torch::kDouble).reshape({2, 2})));
}

}  // namespace
}  // namespace distill::sparsity
