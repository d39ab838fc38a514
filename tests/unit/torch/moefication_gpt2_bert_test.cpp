// MoEfication of the imported GPT-2 and BERT (GELU FFNs, ff1 rows and ff2
// columns per neuron; trainer/moe/ffn_layout.h, trainer/model/hf/
// routed_import.cpp): the routed copy of GPT2LMHeadModel, BertModel and
// BertForSequenceClassification computes the dense model when every expert
// runs, whatever order the neurons are in, survives save and load, and
// otherwise runs only the picked experts (in the import's GELU form) with
// gradients for them alone; the routed blocks keep what the import recorded
// (the tanh GELU, dropout rates); a model of no known architecture is refused.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "../expect_error.h"
#include "../permute_neurons.h"
#include "../scratch_dir.h"
#include "trainer/model/hf/hf_import.h"
#include "trainer/model/model_io.h"
#include "trainer/moe/moefication.h"

namespace distill::moe {
namespace {

using distill::testing::expectError;
using distill::testing::permuteNeurons;
using distill::testing::ScratchDir;

struct Fixture {
  const char* name;
  int64_t vocab, d_model, d_ff;
};
// tests/fixtures/hf: GPT-2's n_inner is null (4 x n_embd).
const Fixture kFixtures[] = {{"gpt2", 100, 48, 192}, {"bert", 90, 48, 96}, {"bert_model", 90, 48, 96}};

torch::jit::Module imported(const std::string& name) {
  torch::jit::Module m =
      model::hf::importHf(std::string(DISTILL_SOURCE_DIR) + "/tests/fixtures/hf/" + name, torch::kFloat32);
  m.eval();
  return m;
}

torch::Tensor logits(torch::jit::Module& m, const torch::Tensor& ids, const torch::Tensor& mask) {
  return model::runModel(m, ids, mask, "model").logits;
}

TEST(RoutedGpt2Bert, EveryExpertRunningIsTheDenseModel) {
  ScratchDir dir;
  for (const Fixture& f : kFixtures) {
    SCOPED_TRACE(f.name);
    torch::manual_seed(5);
    const torch::Tensor ids = torch::randint(f.vocab, {3, 12});
    torch::Tensor mask = torch::ones({3, 12}, torch::kLong);
    mask.index_put_({2, torch::indexing::Slice(7)}, 0);
    torch::jit::Module dense = imported(f.name);
    torch::jit::Module moe = expertsModel(dense, f.name, 4, 4);
    moe.eval();
    EXPECT_EQ(moe.attr("distill_arch").toStringRef(), dense.attr("distill_arch").toStringRef());
    EXPECT_EQ(moe.attr("ffn_experts").toInt(), 4);
    EXPECT_EQ(moe.attr("layer1").toModule().attr("expert_width").toInt(), f.d_ff / 4);
    EXPECT_EQ(moe.attr("layer1").toModule().attr("approximate").toStringRef(),
              dense.attr("layer1").toModule().attr("approximate").toStringRef());
    const torch::Tensor dense_ff1 = dense.attr("layer0").toModule().attr("ff1_weight").toTensor().clone();
    permuteNeurons(moe, torch::randperm(f.d_ff), {"ff1_weight", "ff1_bias"}, {"ff2_weight"});
    // The routed copy owns its tensors: permuting it left the dense model alone.
    EXPECT_TRUE(dense.attr("layer0").toModule().attr("ff1_weight").toTensor().equal(dense_ff1));
    const torch::Tensor expected = logits(dense, ids, mask);
    EXPECT_TRUE(torch::allclose(logits(moe, ids, mask), expected, 1e-4, 1e-5));
    moe.save(dir.path(std::string(f.name) + ".pt"));
    torch::jit::Module loaded = model::loadModel(dir.path(std::string(f.name) + ".pt"));
    EXPECT_TRUE(torch::allclose(logits(loaded, ids, mask), expected, 1e-4, 1e-5));
  }
}

TEST(RoutedGpt2Bert, RoutedFfnRunsOnlyThePickedExpertsInTheImportsGeluForm) {
  for (const Fixture& f : kFixtures) {
    SCOPED_TRACE(f.name);
    torch::jit::Module moe = expertsModel(imported(f.name), f.name, 4, 1);
    moe.eval();
    auto block = moe.attr("layer0").toModule();
    torch::NoGradGuard no_grad;
    // Expert 3 for tokens whose first feature is positive, expert 1 otherwise.
    block.attr("router_weight").toTensor()[3][0] = 10.0;
    block.attr("router_bias").toTensor()[1] = 1e-3;
    torch::manual_seed(6);
    const torch::Tensor h = torch::randn({2, 5, f.d_model});
    const torch::Tensor out = block.run_method("ffn", h).toTensor();
    auto w = [&](const char* name) { return block.attr(name).toTensor(); };
    const int64_t width = f.d_ff / 4;
    // GPT-2's gelu_new is the tanh form; the BERT fixtures use the exact one.
    const std::string form = std::string(f.name) == "gpt2" ? "tanh" : "none";
    auto expert = [&](const torch::Tensor& x, int64_t e) {
      const int64_t s = width * e;
      const torch::Tensor ff1 = torch::linear(x, w("ff1_weight").narrow(0, s, width), w("ff1_bias").narrow(0, s, width));
      return torch::linear(torch::gelu(ff1, form), w("ff2_weight").narrow(1, s, width), w("ff2_bias"));
    };
    const torch::Tensor positive = h.select(-1, 0).gt(0).unsqueeze(-1);
    EXPECT_TRUE(torch::allclose(out, torch::where(positive, expert(h, 3), expert(h, 1)), 1e-5, 1e-6));
  }
}

TEST(RoutedGpt2Bert, GradientsReachOnlyThePickedExpertsAndNotTheRouter) {
  for (const Fixture& f : kFixtures) {
    SCOPED_TRACE(f.name);
    torch::jit::Module moe = expertsModel(imported(f.name), f.name, 4, 1);
    moe.train();
    auto block = moe.attr("layer1").toModule();
    {
      torch::NoGradGuard no_grad;
      block.attr("router_bias").toTensor()[2] = 5.0;  // every token picks expert 2
    }
    const torch::Tensor ids = torch::randint(f.vocab, {2, 12});
    logits(moe, ids, torch::ones({2, 12}, torch::kLong)).sum().backward();
    const int64_t width = f.d_ff / 4;
    for (const char* name : {"ff1_weight", "ff1_bias"}) {
      const torch::Tensor grad = block.attr(name).toTensor().grad();
      ASSERT_TRUE(grad.defined()) << name;
      EXPECT_EQ(grad.narrow(0, 0, 2 * width).abs().sum().item<double>(), 0.0) << name;
      EXPECT_EQ(grad.narrow(0, 3 * width, width).abs().sum().item<double>(), 0.0) << name;
      EXPECT_GT(grad.narrow(0, 2 * width, width).abs().sum().item<double>(), 0.0) << name;
    }
    const torch::Tensor ff2 = block.attr("ff2_weight").toTensor().grad();
    EXPECT_EQ(ff2.narrow(1, 0, 2 * width).abs().sum().item<double>(), 0.0);
    EXPECT_GT(ff2.narrow(1, 2 * width, width).abs().sum().item<double>(), 0.0);
    for (const auto& p : moe.named_parameters()) EXPECT_EQ(p.name.find("router"), std::string::npos) << p.name;
  }
}

TEST(RoutedGpt2Bert, ActiveFractionCountsBothMatricesAndTheirBiases) {
  torch::jit::Module moe = expertsModel(imported("bert"), "bert", 8, 2);
  const double d = 48, n = 96, per_neuron = d + 1 + d;  // an ff1 row and bias entry, an ff2 column
  EXPECT_NEAR(activeFfnFraction(moe), (per_neuron * 2 * 12 + d + 8 * (d + 1)) / (per_neuron * n + d), 1e-12);
  EXPECT_NEAR(activeFfnFraction(imported("gpt2")), 1.0, 1e-12);
}

TEST(RoutedGpt2Bert, BadInputIsNamed) {
  const torch::jit::Module dense = imported("gpt2");
  expectError([&] { expertsModel(dense, "gpt2.pt", 5, 2); }, {"gpt2.pt", "layer0", "192 FFN neurons", "5"});
  torch::jit::Module moe = expertsModel(imported("bert"), "bert.pt", 4, 2);
  expectError([&] { expertsModel(moe, "moe.pt", 4, 2); }, {"moe.pt", "already has 4 experts"});
  torch::jit::Module foreign("__torch__.Foreign");
  expectError([&] { expertsModel(foreign, "custom.pt", 4, 2); },
              {"custom.pt", "hf-gpt2, hf-bert and hf-bert-classifier", "none of them"});
}

}  // namespace
}  // namespace distill::moe
