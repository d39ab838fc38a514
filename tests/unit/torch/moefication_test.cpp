// MoEfication (trainer/moe): co-activation clustering recovers neurons that
// fire together and keeps experts balanced; the routed model computes the
// dense one when every expert runs and only the picked experts otherwise,
// with gradients for those experts alone; the router fit learns which experts
// carry a token's activation; bad expert counts are named.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "common/error.h"
#include "../expect_error.h"
#include "../permute_neurons.h"
#include "trainer/model/builtin.h"
#include "trainer/model/model_io.h"
#include "trainer/moe/co_activation.h"
#include "trainer/moe/moefication.h"
#include "trainer/moe/router_fit.h"

namespace distill::moe {
namespace {

using distill::testing::expectError;

// `groups` planted groups of `width` neurons, ids shuffled; every token
// fires one group's neurons (each with probability 0.9) and any other neuron
// with probability 0.05. Returns [tokens, n] activations and the planted group
// of each neuron.
std::pair<torch::Tensor, std::vector<int64_t>> plantedActivations(int64_t groups, int64_t width, int64_t tokens) {
  torch::manual_seed(3);
  const int64_t n = groups * width;
  const torch::Tensor group_of = torch::randperm(n).div(width, "floor");
  const torch::Tensor token_group = torch::randint(groups, {tokens, 1});
  const torch::Tensor in_group = group_of.unsqueeze(0).eq(token_group);
  const torch::Tensor fire = torch::where(in_group, torch::rand({tokens, n}).lt(0.9), torch::rand({tokens, n}).lt(0.05));
  const torch::Tensor values = torch::where(fire, torch::rand({tokens, n}) + 0.1, -torch::rand({tokens, n}) * 0.1);
  return {values, std::vector<int64_t>(group_of.data_ptr<int64_t>(), group_of.data_ptr<int64_t>() + n)};
}

TEST(CoActivation, BalancedExpertsRecoverPlantedGroups) {
  const auto [values, planted] = plantedActivations(4, 8, 600);
  CoActivation stats(32);
  stats.add(values.narrow(0, 0, 250));  // in two parts, as ranks would
  stats.add(values.narrow(0, 250, 350));
  EXPECT_EQ(stats.tokens, 600);
  const std::vector<int64_t> expert = balancedExperts(stats, 4, "layer0");
  ASSERT_EQ(expert.size(), 32u);
  std::vector<std::set<int64_t>> groups_in(4);
  std::vector<int> members(4, 0);
  for (size_t j = 0; j < expert.size(); ++j) {
    ASSERT_GE(expert[j], 0);
    ASSERT_LT(expert[j], 4);
    ++members[expert[j]];
    groups_in[expert[j]].insert(planted[j]);
  }
  for (int e = 0; e < 4; ++e) {
    EXPECT_EQ(members[e], 8) << "expert " << e;
    EXPECT_EQ(groups_in[e].size(), 1u) << "expert " << e << " mixes planted groups";
  }
}

TEST(CoActivation, ExpertOrderMakesExpertsConsecutive) {
  const torch::Tensor order = expertOrder({1, 0, 1, 0, 2, 2}, 3);
  EXPECT_TRUE(order.equal(torch::tensor({1, 3, 0, 2, 4, 5}, torch::kInt64)));
}

TEST(CoActivation, BadExpertCountsAreNamed) {
  expectError([] { balancedExperts(CoActivation(30), 4, "layer3"); }, {"layer3", "30 FFN neurons", "4"});
  expectError([] { balancedExperts(CoActivation(4), 5, "layer0"); }, {"layer0", "5 experts for 4 FFN neurons"});
}

model::TransformerSize tinySize() {
  model::TransformerSize size;
  size.vocab_size = 20;
  size.max_len = 12;
  size.d_model = 16;
  size.num_layers = 2;
  size.num_heads = 2;
  size.d_ff = 32;
  size.dropout = 0;
  return size;
}

torch::Tensor logits(torch::jit::Module& m, const torch::Tensor& ids, const torch::Tensor& mask) {
  return model::runModel(m, ids, mask, "model").logits;
}

TEST(ExpertsModel, EveryExpertRunningIsTheDenseModel) {
  torch::manual_seed(5);
  const torch::Tensor ids = torch::randint(20, {3, 12});
  torch::Tensor mask = torch::ones({3, 12}, torch::kLong);
  mask.index_put_({2, torch::indexing::Slice(7)}, 0);
  for (auto dense : {model::buildDecoderLM(tinySize(), 7), model::buildEncoderClassifier(tinySize(), 3, 7)}) {
    dense.eval();
    torch::jit::Module moe = expertsModel(dense, "dense.pt", 4, 4);
    moe.eval();
    // Permute the neurons as moefy does: the function must not change.
    testing::permuteNeurons(moe, torch::randperm(32), {"ff1_weight", "ff1_bias"}, {"ff2_weight"});
    EXPECT_TRUE(torch::allclose(logits(moe, ids, mask), logits(dense, ids, mask), 1e-4, 1e-5));
  }
}

TEST(ExpertsModel, RoutedFfnRunsOnlyThePickedExperts) {
  torch::jit::Module moe = expertsModel(model::buildDecoderLM(tinySize(), 7), "dense.pt", 4, 1);
  moe.eval();
  auto block = moe.attr("layer0").toModule();
  torch::NoGradGuard no_grad;
  // Expert 2 for tokens whose first feature is positive, expert 0 otherwise.
  torch::Tensor router = block.attr("router_weight").toTensor();
  router[2][0] = 10.0;
  block.attr("router_bias").toTensor()[0] = 1e-3;
  torch::manual_seed(6);
  const torch::Tensor h = torch::randn({2, 5, 16});
  const torch::Tensor out = block.run_method("ffn", h).toTensor();
  const auto ff1 = block.attr("ff1_weight").toTensor(), ff1_bias = block.attr("ff1_bias").toTensor();
  const auto ff2 = block.attr("ff2_weight").toTensor(), ff2_bias = block.attr("ff2_bias").toTensor();
  auto expert = [&](const torch::Tensor& x, int64_t e) {
    return torch::linear(torch::gelu(torch::linear(x, ff1.narrow(0, 8 * e, 8), ff1_bias.narrow(0, 8 * e, 8))),
                         ff2.narrow(1, 8 * e, 8), ff2_bias);
  };
  const torch::Tensor positive = h.select(-1, 0).gt(0).unsqueeze(-1);
  const torch::Tensor expected = torch::where(positive, expert(h, 2), expert(h, 0));
  EXPECT_TRUE(torch::allclose(out, expected, 1e-5, 1e-6));
}

TEST(ExpertsModel, GradientsReachOnlyThePickedExpertsAndNotTheRouter) {
  torch::jit::Module moe = expertsModel(model::buildDecoderLM(tinySize(), 7), "dense.pt", 4, 1);
  auto block = moe.attr("layer1").toModule();
  {
    torch::NoGradGuard no_grad;
    block.attr("router_bias").toTensor()[3] = 5.0;  // every token picks expert 3
  }
  const torch::Tensor ids = torch::randint(20, {2, 12});
  logits(moe, ids, torch::ones({2, 12}, torch::kLong)).sum().backward();
  const torch::Tensor grad = block.attr("ff1_weight").toTensor().grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_EQ(grad.narrow(0, 0, 24).abs().sum().item<double>(), 0.0);
  EXPECT_GT(grad.narrow(0, 24, 8).abs().sum().item<double>(), 0.0);
  EXPECT_FALSE(block.attr("router_weight").toTensor().requires_grad());
  for (const auto& p : moe.named_parameters()) EXPECT_EQ(p.name.find("router"), std::string::npos) << p.name;
}

TEST(ExpertsModel, ActiveFractionCountsPickedExpertsAndRouters) {
  torch::jit::Module moe = expertsModel(model::buildDecoderLM(tinySize(), 7), "dense.pt", 8, 2);
  const double d = 16, ffn = 32 * (2 * d + 1) + d;
  const double active = 2 * 4 * (2 * d + 1) + d + 8 * (d + 1);
  EXPECT_NEAR(activeFfnFraction(moe), active / ffn, 1e-12);
  EXPECT_NEAR(activeFfnFraction(model::buildDecoderLM(tinySize(), 7)), 1.0, 1e-12);
}

TEST(ExpertsModel, BadInputIsNamed) {
  auto dense = model::buildDecoderLM(tinySize(), 7);
  expectError([&] { expertsModel(dense, "dense.pt", 64, 2); }, {"fewer than --experts"});
  expectError([&] { expertsModel(dense, "dense.pt", 5, 2); }, {"layer0"});
  expectError([&] { expertsModel(dense, "dense.pt", 4, 5); }, {"--top-k"});
  auto moe = expertsModel(dense, "dense.pt", 4, 2);
  expectError([&] { expertsModel(moe, "moe.pt", 4, 2); }, {"already has 4 experts"});
  model::TransformerSize size = tinySize();
  size.ffn_experts = 3;
  size.ffn_top_k = 1;
  expectError([&] { model::checkTransformerSize(size); }, {"ffn_experts (3) must divide d_ff (32)"});
}

TEST(RouterFit, LearnsWhichExpertsCarryTheActivation) {
  torch::manual_seed(8);
  const int64_t d = 6, experts = 3;
  const torch::Tensor x = torch::randn({600, d});
  const torch::Tensor teacher = torch::randn({experts, d});
  // Each expert's share grows with its teacher score: the best expert is the argmax.
  const torch::Tensor shares = torch::softmax(torch::linear(x, teacher) * 3.0, -1);
  const Router r = fitRouter({x.narrow(0, 0, 300), x.narrow(0, 300, 300)},
                             {shares.narrow(0, 0, 300), shares.narrow(0, 300, 300)}, experts, {400, 0.05},
                             [](torch::Tensor&) {});
  const torch::Tensor picked = torch::linear(x, r.weight, r.bias).argmax(-1);
  EXPECT_GT(picked.eq(shares.argmax(-1)).to(torch::kFloat).mean().item<double>(), 0.95);
  const double entropy = -(shares * shares.log()).sum(-1).mean().item<double>();
  EXPECT_LT(r.loss, entropy + 0.02);  // cross-entropy near its floor, the targets' entropy
}

TEST(RouterFit, ExpertSharesAreDistributions) {
  const torch::Tensor a = torch::tensor({{1.0, -1.0, 2.0, 0.0}, {-1.0, -2.0, -0.5, -3.0}});
  const torch::Tensor s = expertShares(a, 2);
  EXPECT_TRUE(torch::allclose(s, torch::tensor({{1.0 / 3, 2.0 / 3}, {0.5, 0.5}})));
}

}  // namespace
}  // namespace distill::moe
