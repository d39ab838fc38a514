// Pruning decisions at every granularity, against hand-computed masks:
// N:M patterns, rows, columns, blocks, heads across Q/K/V/out, global ranking
// of units of different sizes, minimum density and thresholds.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/sparsity/mask_ranking.h"

namespace distill::sparsity {
namespace {

torch::Tensor t2(std::vector<float> v, int64_t rows, int64_t cols) {
  return torch::tensor(v, torch::kFloat).reshape({rows, cols});
}

Granularity granularity(const std::string& name, uint32_t br = 2, uint32_t bc = 2) {
  config::SparsitySpec s;
  s.set_granularity(name);
  s.add_block_shape(br);
  s.add_block_shape(bc);
  return parseGranularity(s);
}

std::vector<torch::Tensor> prune(const std::string& g, const std::vector<torch::Tensor>& scores, double sparsity,
                                 const std::string& scope = "global", double min_density = 0,
                                 std::optional<double> threshold = std::nullopt,
                                 const std::vector<StructureGroup>& groups = {}) {
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  for (size_t i = 0; i < scores.size(); ++i) {
    names.push_back("p" + std::to_string(i));
    shapes.push_back(scores[i].sizes().vec());
  }
  const RankingPlan plan = RankingPlan::make(names, shapes, granularity(g), groups);
  return plan.prune(scores, {sparsity, scope, min_density, threshold});
}

torch::Tensor asInt(const torch::Tensor& pruned) { return pruned.to(torch::kInt); }

TEST(MaskRanking, TwoFourKeepsTheTwoLargestOfEveryFour) {
  const auto pruned = prune("2:4", {t2({4, 1, 3, 2, /**/ 5, 5, 0, 5, /**/ -1, -2, -3, -4, /**/ 0, 0, 0, 0}, 2, 8)}, 0.5);
  // Ties keep the lower index: [5,5,0,5] keeps entries 0 and 1; all-equal keeps 0 and 1.
  const torch::Tensor expected =
      torch::tensor({0, 1, 0, 1, /**/ 0, 0, 1, 1, /**/ 0, 0, 1, 1, /**/ 0, 0, 1, 1}, torch::kInt).reshape({2, 8});
  EXPECT_TRUE(torch::equal(asInt(pruned[0]), expected)) << pruned[0];
  // The N:M pattern holds in every group of 4.
  EXPECT_TRUE(torch::equal(pruned[0].logical_not().reshape({-1, 4}).sum(1), torch::full({4}, 2, torch::kLong)));
}

TEST(MaskRanking, FourEightPatternAndBadShapes) {
  const torch::Tensor s = torch::arange(16, torch::kFloat).reshape({2, 8});
  const auto pruned = prune("4:8", {s}, 0.5);
  EXPECT_TRUE(torch::equal(pruned[0].logical_not().sum(1), torch::full({2}, 4, torch::kLong)));
  EXPECT_TRUE(pruned[0][0].narrow(0, 0, 4).all().item<bool>());  // the four smallest of each row go
  EXPECT_THROW(prune("2:4", {torch::ones({2, 6})}, 0.5), Error);  // 6 is not a multiple of 4
}

TEST(MaskRanking, RowsRankByMeanScore) {
  // Row means: 1.5, 3.5, 0.5 -> at 1/3 sparsity the last row goes.
  const auto pruned = prune("rows", {t2({1, 2, 3, 4, 0, 1}, 3, 2)}, 1.0 / 3);
  EXPECT_TRUE(torch::equal(asInt(pruned[0]), torch::tensor({0, 0, 0, 0, 1, 1}, torch::kInt).reshape({3, 2})));
  EXPECT_THROW(prune("rows", {torch::ones({4})}, 0.5), Error);  // a vector has no rows
}

TEST(MaskRanking, ColumnsRankByMeanScore) {
  // Column means: 2, 1, 3 -> at 1/3 the middle column goes.
  const auto pruned = prune("columns", {t2({1, 0, 3, 3, 2, 3}, 2, 3)}, 1.0 / 3);
  EXPECT_TRUE(torch::equal(asInt(pruned[0]), torch::tensor({0, 1, 0, 0, 1, 0}, torch::kInt).reshape({2, 3})));
}

TEST(MaskRanking, BlocksTileTheMatrix) {
  // 4x4 in 2x2 blocks; block means: top-left 1, top-right 9, bottom-left 5, bottom-right 2.
  const torch::Tensor s = t2({1, 1, 9, 9, /**/ 1, 1, 9, 9, /**/ 5, 5, 2, 2, /**/ 5, 5, 2, 2}, 4, 4);
  const auto pruned = prune("blocks", {s}, 0.5);
  const torch::Tensor expected =
      torch::tensor({1, 1, 0, 0, /**/ 1, 1, 0, 0, /**/ 0, 0, 1, 1, /**/ 0, 0, 1, 1}, torch::kInt).reshape({4, 4});
  EXPECT_TRUE(torch::equal(asInt(pruned[0]), expected));
  EXPECT_THROW(prune("blocks", {torch::ones({3, 4})}, 0.5), Error);  // 3 rows do not tile by 2
}

TEST(MaskRanking, HeadsGroupQkvRowsAndOutputColumns) {
  // d = 2, two heads of dim 1: qkv [6, 2] rows q0 q1 k0 k1 v0 v1; out [2, 2] columns h0 h1.
  torch::Tensor qkv = torch::ones({6, 2});
  torch::Tensor out = torch::ones({2, 2});
  qkv.index_put_({1}, 0.1);  // head 1's q row is weak
  out.index_put_({torch::indexing::Slice(), 1}, 0.1);  // and its output column
  const std::vector<StructureGroup> groups = {
      {"layer0.heads", "heads", 2, {{"p0", 0, 0, 1}, {"p0", 0, 2, 1}, {"p0", 0, 4, 1}, {"p1", 1, 0, 1}}}};
  const auto pruned = prune("heads", {qkv, out}, 0.5, "global", 0, std::nullopt, groups);
  const torch::Tensor qkv_expected = torch::tensor({0, 1, 0, 1, 0, 1}, torch::kInt).view({6, 1}).expand({6, 2});
  EXPECT_TRUE(torch::equal(asInt(pruned[0]), qkv_expected)) << pruned[0];
  EXPECT_TRUE(torch::equal(asInt(pruned[1]), torch::tensor({0, 1, 0, 1}, torch::kInt).reshape({2, 2})));
}

TEST(MaskRanking, NeuronsGroupFfnRowsAndColumns) {
  // d = 2, d_ff = 3: ff1 [3, 2] rows are neurons, ff2 [2, 3] columns read them.
  torch::Tensor ff1 = torch::ones({3, 2});
  torch::Tensor ff2 = torch::ones({2, 3});
  ff1.index_put_({2}, 0.2);                            // neuron 2 is weak in ff1
  ff2.index_put_({torch::indexing::Slice(), 2}, 0.2);  // and in ff2
  ff2.index_put_({torch::indexing::Slice(), 0}, 0.5);  // neuron 0 half as strong in ff2 only
  const std::vector<StructureGroup> groups = {
      {"layer0.neurons", "neurons", 3, {{"p0", 0, 0, 1}, {"p1", 1, 0, 1}}},
      {"layer0.heads", "heads", 1, {{"p0", 0, 0, 3}}}};  // another kind: ignored
  // Unit scores: neuron 0 (1 + 1 + 0.5 + 0.5) / 4 = 0.75, neuron 1: 1, neuron 2: 0.2. 1/3 -> neuron 2.
  const auto pruned = prune("neurons", {ff1, ff2}, 1.0 / 3, "global", 0, std::nullopt, groups);
  EXPECT_TRUE(torch::equal(asInt(pruned[0]), torch::tensor({0, 0, 0, 0, 1, 1}, torch::kInt).reshape({3, 2})));
  EXPECT_TRUE(torch::equal(asInt(pruned[1]), torch::tensor({0, 0, 1, 0, 0, 1}, torch::kInt).reshape({2, 3})));
  // 2/3 -> neurons 2 and 0.
  const auto more = prune("neurons", {ff1, ff2}, 2.0 / 3, "global", 0, std::nullopt, groups);
  EXPECT_TRUE(torch::equal(asInt(more[1]), torch::tensor({1, 0, 1, 1, 0, 1}, torch::kInt).reshape({2, 3})));
}

TEST(MaskRanking, GlobalRankingAcrossParameters) {
  // Global: the two lowest entries over both parameters; per layer: the lowest of each.
  const std::vector<torch::Tensor> scores = {t2({1, 2, 3, 4}, 2, 2), t2({5, 6, 7, 0.5}, 2, 2)};
  const auto global = prune("unstructured", scores, 0.25);
  EXPECT_TRUE(torch::equal(asInt(global[0]), torch::tensor({1, 0, 0, 0}, torch::kInt).reshape({2, 2})));
  EXPECT_TRUE(torch::equal(asInt(global[1]), torch::tensor({0, 0, 0, 1}, torch::kInt).reshape({2, 2})));
  const auto local = prune("unstructured", scores, 0.5, "per_layer");
  EXPECT_EQ(local[0].sum().item<int64_t>(), 2);
  EXPECT_EQ(local[1].sum().item<int64_t>(), 2);
}

TEST(MaskRanking, MinimumDensityCapsEachParameter) {
  // Global 50% would take all of p0 (scores 0.1..0.4); min_density 0.5 keeps two of its entries.
  const std::vector<torch::Tensor> scores = {t2({0.1, 0.2, 0.3, 0.4}, 2, 2), t2({5, 6, 7, 8}, 2, 2)};
  const auto pruned = prune("unstructured", scores, 0.5, "global", 0.5);
  EXPECT_TRUE(torch::equal(asInt(pruned[0]), torch::tensor({1, 1, 0, 0}, torch::kInt).reshape({2, 2})));
  EXPECT_TRUE(torch::equal(asInt(pruned[1]), torch::tensor({1, 1, 0, 0}, torch::kInt).reshape({2, 2})));
  const auto local = prune("rows", {t2({0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4}, 4, 2)}, 1.0, "per_layer", 0.25);
  EXPECT_EQ(local[0].logical_not().sum().item<int64_t>(), 2);  // one row of four survives
}

TEST(MaskRanking, GlobalUnitsOfDifferentSizes) {
  // Rows of a 2x4 (units of 4) and a 4x1 (units of 1) matrix; 12 entries, 25% -> 3 entries.
  // Unit scores: p0 rows 1.0, 9.0; p1 rows 0.5, 0.6, 0.7, 9.0. Greedy lowest first:
  // 0.5 (1), 0.6 (2), 0.7 (3) -> done; row 1.0 of p0 (4 entries) would overshoot.
  const std::vector<torch::Tensor> scores = {t2({1, 1, 1, 1, 9, 9, 9, 9}, 2, 4), t2({0.5, 0.6, 0.7, 9}, 4, 1)};
  const auto pruned = prune("rows", scores, 0.25);
  EXPECT_EQ(pruned[0].sum().item<int64_t>(), 0);
  EXPECT_TRUE(torch::equal(asInt(pruned[1]), torch::tensor({1, 1, 1, 0}, torch::kInt).reshape({4, 1})));
}

TEST(MaskRanking, ThresholdPrunesUnitsAtOrBelowIt) {
  const auto pruned = prune("unstructured", {t2({0.1, 0.005, 0.004, 0.2}, 2, 2)}, 0.0, "global", 0, 0.005);
  EXPECT_TRUE(torch::equal(asInt(pruned[0]), torch::tensor({0, 1, 1, 0}, torch::kInt).reshape({2, 2})));
}

TEST(Granularity, ParsesNamesAndRejectsBadOnes) {
  EXPECT_EQ(granularity("2:4").n, 2);
  EXPECT_EQ(granularity("4:8").m, 8);
  EXPECT_THROW(granularity("4:2"), Error);
  EXPECT_THROW(granularity("diagonal"), Error);
  EXPECT_TRUE(granularity("heads").usesGroups());
  EXPECT_EQ(granularity("neurons").groupKind(), "neurons");
}

}  // namespace
}  // namespace distill::sparsity
