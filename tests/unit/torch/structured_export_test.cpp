// Tests of structured export (trainer/checkpoint/structured_export.h): heads
// and neurons zeroed through masks over their group slices are cut out of a
// built-in model; the smaller model computes the masked model's outputs
// (logits, hidden states and attention maps, 1e-5), has exactly the
// hand-counted number of parameters fewer, and saves and loads again.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include "common/error.h"
#include "tests/unit/scratch_dir.h"
#include "trainer/checkpoint/structured_export.h"
#include "trainer/model/builtin.h"
#include "trainer/model/model_io.h"
#include "trainer/sparsity/structure_groups.h"

namespace distill::checkpoint {
namespace {

using sparsity::StructureGroup;

constexpr int64_t kD = 16;      // d_model
constexpr int64_t kHeads = 4;   // head_dim 4
constexpr int64_t kHeadDim = kD / kHeads;
constexpr int64_t kFF = 12;     // d_ff
constexpr int64_t kLayers = 3;
// Parameters one unit takes with it:
// a head: its q, k and v rows of qkv_weight (3 * hd * D), their qkv_bias
// entries (3 * hd) and its out_weight columns (D * hd);
constexpr int64_t kPerHead = 3 * kHeadDim * kD + 3 * kHeadDim + kD * kHeadDim;  // 268
// a neuron: its ff1_weight row (D), ff1_bias entry (1) and ff2_weight column (D).
constexpr int64_t kPerNeuron = kD + 1 + kD;  // 33

model::TransformerSize tinySize() {
  model::TransformerSize size;
  size.vocab_size = 32;
  size.max_len = 12;
  size.d_model = kD;
  size.num_layers = kLayers;
  size.num_heads = kHeads;
  size.d_ff = kFF;
  return size;
}

torch::Tensor param(const torch::jit::Module& m, const std::string& name) {
  for (const auto& p : model::namedParameters(m)) {
    if (p.name == name) return p.tensor;
  }
  ADD_FAILURE() << "no parameter " << name;
  return {};
}

// Biases are initialised to 0; random ones make the test see that removed
// heads' q/k/v biases and removed neurons' ff1 biases really do not matter.
void randomizeBiases(torch::jit::Module& m) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(11);
  for (auto& p : model::namedParameters(m)) {
    if (p.name.find("_bias") != std::string::npos && p.name.find("norm") == std::string::npos &&
        p.name.find("ln") == std::string::npos)
      p.tensor.normal_(0.0, 0.5);
  }
}

const StructureGroup& group(const std::vector<StructureGroup>& groups, const std::string& name) {
  for (const auto& g : groups) {
    if (g.name == name) return g;
  }
  throw std::runtime_error("no group " + name);
}

// W <- W*M with M 0 on the units' slices of every matrix member (what a
// head/neuron mask does); vectors such as ff1_bias are left as they are.
void maskUnits(torch::jit::Module& m, const StructureGroup& g, const std::vector<int64_t>& units) {
  torch::NoGradGuard no_grad;
  for (const auto& member : g.members) {
    torch::Tensor w = param(m, member.param);
    if (w.dim() < 2) continue;
    torch::Tensor mask = torch::ones_like(w);
    for (int64_t u : units) mask.narrow(member.dim, member.offset + u * member.size, member.size).zero_();
    w.mul_(mask);
  }
}

std::vector<int64_t> range(int64_t n) {
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

struct Batch {
  torch::Tensor ids, mask;
};

Batch randomBatch() {
  torch::manual_seed(3);
  Batch b{torch::randint(0, 32, {3, 9}, torch::kInt64), torch::ones({3, 9}, torch::kInt64)};
  b.mask.index_put_({1, torch::indexing::Slice(5, torch::indexing::None)}, 0);
  b.mask.index_put_({2, torch::indexing::Slice(2, torch::indexing::None)}, 0);
  return b;
}

model::ModelOutputs run(torch::jit::Module& m, const Batch& b) {
  m.eval();
  torch::NoGradGuard no_grad;
  return model::runModel(m, b.ids, b.mask, "test model");
}

void expectSameOutputs(const model::ModelOutputs& a, const model::ModelOutputs& b) {
  ASSERT_EQ(a.logits.sizes(), b.logits.sizes());
  ASSERT_EQ(a.hidden_states.sizes(), b.hidden_states.sizes());
  ASSERT_EQ(a.attentions.sizes(), b.attentions.sizes());
  EXPECT_LE((a.logits - b.logits).abs().max().item<double>(), 1e-5);
  EXPECT_LE((a.hidden_states - b.hidden_states).abs().max().item<double>(), 1e-5);
  EXPECT_LE((a.attentions - b.attentions).abs().max().item<double>(), 1e-5);
}

int64_t countParameters(const torch::jit::Module& m) {
  int64_t n = 0;
  for (const auto& p : model::namedParameters(m)) n += p.tensor.numel();
  return n;
}

// layer0 loses heads 1 and 3 and neurons 0, 5, 11; layer1 all its heads;
// layer2 neurons 2 and 3.
class PrunedEncoder : public ::testing::Test {
 protected:
  void SetUp() override {
    masked = model::buildEncoderClassifier(tinySize(), 3, 5);
    randomizeBiases(masked);
    groups = sparsity::builtinGroups(masked);
    maskUnits(masked, group(groups, "layer0.heads"), {1, 3});
    maskUnits(masked, group(groups, "layer0.neurons"), {0, 5, 11});
    maskUnits(masked, group(groups, "layer1.heads"), range(kHeads));
    maskUnits(masked, group(groups, "layer2.neurons"), {2, 3});
  }
  torch::jit::Module masked;
  std::vector<StructureGroup> groups;
};

TEST_F(PrunedEncoder, ZeroUnitsAreTheMaskedOnes) {
  EXPECT_EQ(zeroUnits(group(groups, "layer0.heads"), masked), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(zeroUnits(group(groups, "layer0.neurons"), masked), (std::vector<int64_t>{0, 5, 11}));
  EXPECT_EQ(zeroUnits(group(groups, "layer1.heads"), masked), range(kHeads));
  EXPECT_TRUE(zeroUnits(group(groups, "layer1.neurons"), masked).empty());
  EXPECT_TRUE(zeroUnits(group(groups, "layer2.heads"), masked).empty());
  EXPECT_EQ(zeroUnits(group(groups, "layer2.neurons"), masked), (std::vector<int64_t>{2, 3}));
}

TEST_F(PrunedEncoder, RemovalKeepsTheOutputsAndDropsTheHandCountedParameters) {
  const auto before = run(masked, randomBatch());
  const auto cut = removeZeroUnits(masked, groups);
  auto exported = cut.module;
  expectSameOutputs(before, run(exported, randomBatch()));

  // 2 + 4 heads and 3 + 2 neurons.
  const int64_t removed = 6 * kPerHead + 5 * kPerNeuron;
  EXPECT_EQ(removed, 1773);
  EXPECT_EQ(cut.parameters_before, countParameters(masked));
  EXPECT_EQ(cut.parameters_after, countParameters(exported));
  EXPECT_EQ(cut.parameters_before - cut.parameters_after, removed);

  // The masked model is left as it was.
  EXPECT_EQ(param(masked, "layer0.qkv_weight").sizes(), (std::vector<int64_t>{3 * kD, kD}));
  expectSameOutputs(before, run(masked, randomBatch()));
}

TEST_F(PrunedEncoder, ShapesAndAttributesDescribeTheSmallerModel) {
  auto exported = removeZeroUnits(masked, groups).module;
  EXPECT_EQ(param(exported, "layer0.qkv_weight").sizes(), (std::vector<int64_t>{3 * 2 * kHeadDim, kD}));
  EXPECT_EQ(param(exported, "layer0.qkv_bias").sizes(), (std::vector<int64_t>{3 * 2 * kHeadDim}));
  EXPECT_EQ(param(exported, "layer0.out_weight").sizes(), (std::vector<int64_t>{kD, 2 * kHeadDim}));
  EXPECT_EQ(param(exported, "layer0.ff1_weight").sizes(), (std::vector<int64_t>{kFF - 3, kD}));
  EXPECT_EQ(param(exported, "layer0.ff1_bias").sizes(), (std::vector<int64_t>{kFF - 3}));
  EXPECT_EQ(param(exported, "layer0.ff2_weight").sizes(), (std::vector<int64_t>{kD, kFF - 3}));
  EXPECT_EQ(param(exported, "layer1.qkv_weight").sizes(), (std::vector<int64_t>{0, kD}));
  EXPECT_EQ(param(exported, "layer1.out_weight").sizes(), (std::vector<int64_t>{kD, 0}));
  EXPECT_EQ(param(exported, "layer2.qkv_weight").sizes(), (std::vector<int64_t>{3 * kD, kD}));

  // The kept rows are the original ones, in order: k of head 2 of layer0 is
  // now the 4th head-sized block of rows (q0, q2, k0, k2).
  const auto k2 = param(masked, "layer0.qkv_weight").narrow(0, kD + 2 * kHeadDim, kHeadDim);
  EXPECT_TRUE(torch::equal(param(exported, "layer0.qkv_weight").narrow(0, 3 * kHeadDim, kHeadDim), k2));

  auto layer = [&](int i) { return exported.attr("layer" + std::to_string(i)).toModule(); };
  EXPECT_EQ(layer(0).attr("num_heads").toInt(), 2);
  EXPECT_EQ(layer(0).attr("head_ids").toIntVector(), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(layer(1).attr("num_heads").toInt(), 0);
  EXPECT_TRUE(layer(1).attr("head_ids").toIntVector().empty());
  EXPECT_EQ(layer(2).attr("num_heads").toInt(), kHeads);
  EXPECT_EQ(exported.attr("heads_per_layer").toIntVector(), (std::vector<int64_t>{2, 0, 4}));
  EXPECT_EQ(exported.attr("d_ff_per_layer").toIntVector(), (std::vector<int64_t>{9, 12, 10}));
  // The widths before removal stay: attentions still has num_heads maps per layer.
  EXPECT_EQ(exported.attr("num_heads").toInt(), kHeads);
  EXPECT_EQ(exported.attr("d_ff").toInt(), kFF);
  // Parameters stay trainable (fine-tuning an exported student).
  EXPECT_TRUE(param(exported, "layer0.qkv_weight").requires_grad());
}

TEST_F(PrunedEncoder, ExportedModelSavesLoadsAndRunsAgain) {
  const auto before = run(masked, randomBatch());
  testing::ScratchDir dir;
  removeZeroUnits(masked, groups).module.save(dir.path("model.pt"));
  auto loaded = torch::jit::load(dir.path("model.pt"));
  expectSameOutputs(before, run(loaded, randomBatch()));
  EXPECT_EQ(loaded.attr("layer0").toModule().attr("num_heads").toInt(), 2);

  // Gradients flow through the smaller model in training mode.
  loaded.train();
  const auto b = randomBatch();
  auto out = loaded.forward({b.ids, b.mask}).toGenericDict().at("logits").toTensor();
  out.square().sum().backward();
  EXPECT_GT(param(loaded, "layer0.qkv_weight").grad().abs().sum().item<double>(), 0.0);
}

TEST(StructuredExport, AHeadWithNonzeroOutputColumnsIsKept) {
  auto m = model::buildEncoderClassifier(tinySize(), 3, 5);
  const auto groups = sparsity::builtinGroups(m);
  const auto& heads = group(groups, "layer0.heads");
  {
    torch::NoGradGuard no_grad;  // q, k and v rows of head 2 only: out_weight still reads it
    for (int64_t part = 0; part < 3; ++part)
      param(m, "layer0.qkv_weight").narrow(0, part * kD + 2 * kHeadDim, kHeadDim).zero_();
  }
  EXPECT_TRUE(zeroUnits(heads, m).empty());
  {
    torch::NoGradGuard no_grad;
    param(m, "layer0.out_weight").narrow(1, 2 * kHeadDim, kHeadDim).zero_();
  }
  EXPECT_EQ(zeroUnits(heads, m), (std::vector<int64_t>{2}));
}

TEST(StructuredExport, NothingZeroNothingRemoved) {
  auto m = model::buildEncoderClassifier(tinySize(), 3, 5);
  const auto cut = removeZeroUnits(m, sparsity::builtinGroups(m));
  EXPECT_EQ(cut.parameters_after, cut.parameters_before);
  for (const auto& g : cut.groups) EXPECT_TRUE(g.removed.empty()) << g.group;
  auto exported = cut.module;
  expectSameOutputs(run(m, randomBatch()), run(exported, randomBatch()));
  EXPECT_EQ(exported.attr("heads_per_layer").toIntVector(), (std::vector<int64_t>{4, 4, 4}));
}

TEST(StructuredExport, EveryNeuronAndEveryHeadOfALayer) {
  auto m = model::buildEncoderClassifier(tinySize(), 3, 9);
  randomizeBiases(m);
  const auto groups = sparsity::builtinGroups(m);
  maskUnits(m, group(groups, "layer2.neurons"), range(kFF));
  maskUnits(m, group(groups, "layer2.heads"), range(kHeads));
  const auto cut = removeZeroUnits(m, groups);
  EXPECT_EQ(cut.parameters_before - cut.parameters_after, kHeads * kPerHead + kFF * kPerNeuron);
  auto exported = cut.module;
  EXPECT_EQ(param(exported, "layer2.ff1_weight").sizes(), (std::vector<int64_t>{0, kD}));
  EXPECT_EQ(exported.attr("d_ff_per_layer").toIntVector(), (std::vector<int64_t>{12, 12, 0}));
  expectSameOutputs(run(m, randomBatch()), run(exported, randomBatch()));
}

TEST(StructuredExport, CausalDecoderKeepsItsOutputs) {
  auto size = tinySize();
  size.num_layers = 2;
  auto m = model::buildDecoderLM(size, 4);
  randomizeBiases(m);
  const auto groups = sparsity::builtinGroups(m);
  maskUnits(m, group(groups, "layer0.heads"), {0});
  maskUnits(m, group(groups, "layer1.heads"), {1, 2, 3});
  maskUnits(m, group(groups, "layer1.neurons"), {4});
  const auto cut = removeZeroUnits(m, groups);
  EXPECT_EQ(cut.parameters_before - cut.parameters_after, 4 * kPerHead + kPerNeuron);
  auto exported = cut.module;
  expectSameOutputs(run(m, randomBatch()), run(exported, randomBatch()));
  EXPECT_EQ(exported.attr("layer0").toModule().attr("head_ids").toIntVector(), (std::vector<int64_t>{1, 2, 3}));
}

TEST(StructuredExport, ABuiltinModelSupportsRemovalOtherModulesDoNot) {
  EXPECT_TRUE(supportsStructuredRemoval(model::buildEncoderClassifier(tinySize(), 3, 5)));
  torch::jit::Module plain("__torch__.Plain");
  plain.register_parameter("w", torch::ones({2, 2}), false);
  EXPECT_FALSE(supportsStructuredRemoval(plain));
}

TEST(StructuredExport, AGroupThatDoesNotFitIsAnErrorNamingIt) {
  auto m = model::buildEncoderClassifier(tinySize(), 3, 5);
  StructureGroup bad{"custom.heads", "heads", 5, {{"layer0.out_weight", 1, 0, kHeadDim}}};  // 5 * 4 > 16 columns
  try {
    removeZeroUnits(m, {bad});
    FAIL() << "expected distill::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("custom.heads"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace distill::checkpoint
