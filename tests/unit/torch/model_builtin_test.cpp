// Tests of the built-in encoder classifier and decoder LM (trainer/model/builtin.h):
// output shapes, masking, causality, dropout modes, gradients, seeding, naming,
// and one forward checked against an independent reference implementation.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/model/builtin.h"
#include "trainer/model/model_io.h"

namespace distill::model {
namespace {

constexpr int64_t kBatch = 3;
constexpr int64_t kSeq = 10;
constexpr int64_t kClasses = 5;

// Batch of kBatch samples: sample 1 has its last 3 positions padded,
// sample 2 its last 6; sample 0 is full.
struct Batch {
  torch::Tensor ids;
  torch::Tensor mask;
};

Batch makeBatch(int64_t vocab) {
  torch::manual_seed(123);
  Batch b;
  b.ids = torch::randint(0, vocab, {kBatch, kSeq}, torch::kInt64);
  b.mask = torch::ones({kBatch, kSeq}, torch::kInt64);
  b.mask.index_put_({1, torch::indexing::Slice(7, torch::indexing::None)}, 0);
  b.mask.index_put_({2, torch::indexing::Slice(4, torch::indexing::None)}, 0);
  return b;
}

ModelOutputs run(torch::jit::Module& m, const Batch& b) {
  return runModel(m, b.ids, b.mask, "test model");
}

TEST(BuiltinModels, ArchitecturesAreListedInOrder) {
  EXPECT_EQ(builtinArchitectures(), (std::vector<std::string>{"encoder-classifier", "decoder-lm"}));
}

TEST(BuiltinModels, EncoderOutputsFollowTheContract) {
  TransformerSize size;
  auto m = buildEncoderClassifier(size, kClasses, 1);
  auto out = run(m, makeBatch(size.vocab_size));
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{kBatch, kClasses}));
  EXPECT_EQ(out.hidden_states.sizes(), (std::vector<int64_t>{3, kBatch, kSeq, 64}));
  EXPECT_EQ(out.attentions.sizes(), (std::vector<int64_t>{2, kBatch, 4, kSeq, kSeq}));
  EXPECT_EQ(out.logits.scalar_type(), torch::kFloat32);
}

TEST(BuiltinModels, DecoderOutputsFollowTheContract) {
  TransformerSize size;
  size.num_layers = 3;
  size.num_heads = 2;
  auto m = buildDecoderLM(size, 1);
  auto out = run(m, makeBatch(size.vocab_size));
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{kBatch, kSeq, size.vocab_size}));
  EXPECT_EQ(out.hidden_states.sizes(), (std::vector<int64_t>{4, kBatch, kSeq, 64}));
  EXPECT_EQ(out.attentions.sizes(), (std::vector<int64_t>{3, kBatch, 2, kSeq, kSeq}));
}

TEST(BuiltinModels, LayerOutputsNobodyReadsAreNotReturned) {
  TransformerSize size;
  size.dropout = 0.0;
  for (bool decoder : {false, true}) {
    auto m = decoder ? buildDecoderLM(size, 1) : buildEncoderClassifier(size, kClasses, 1);
    m.eval();
    const Batch b = makeBatch(size.vocab_size);
    const torch::Tensor all = run(m, b).logits;
    setLayerOutputs(m, /*hidden_states=*/false, /*attentions=*/false);
    auto out = run(m, b);
    EXPECT_FALSE(out.hidden_states.defined());
    EXPECT_FALSE(out.attentions.defined());
    EXPECT_TRUE(torch::equal(out.logits, all));  // the logits do not depend on what else is returned
    setLayerOutputs(m, true, false);
    out = run(m, b);
    EXPECT_EQ(out.hidden_states.size(0), 3);
    EXPECT_FALSE(out.attentions.defined());
    setLayerOutputs(m, false, true);
    EXPECT_EQ(run(m, b).attentions.size(0), 2);
  }
}

TEST(BuiltinModels, EncoderAttentionSumsToOneAndSkipsPaddedKeys) {
  auto m = buildEncoderClassifier(TransformerSize{}, kClasses, 2);
  m.eval();
  auto batch = makeBatch(64);
  auto attn = run(m, batch).attentions;  // [L, B, H, T, T]
  EXPECT_TRUE(torch::allclose(attn.sum(-1), torch::ones_like(attn.sum(-1)), 1e-5, 1e-5));
  // Keys 7.. of sample 1 and 4.. of sample 2 are padding: exactly zero weight.
  using torch::indexing::Slice;
  EXPECT_EQ(attn.index({Slice(), 1, Slice(), Slice(), Slice(7)}).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(attn.index({Slice(), 2, Slice(), Slice(), Slice(4)}).abs().max().item<float>(), 0.0f);
  EXPECT_GT(attn.index({Slice(), 0, Slice(), Slice(), Slice(7)}).min().item<float>(), 0.0f);
}

TEST(BuiltinModels, DecoderAttentionIsLowerTriangularAndSkipsPaddedKeys) {
  auto m = buildDecoderLM(TransformerSize{}, 2);
  m.eval();
  auto batch = makeBatch(64);
  auto attn = run(m, batch).attentions;
  EXPECT_TRUE(torch::allclose(attn.sum(-1), torch::ones_like(attn.sum(-1)), 1e-5, 1e-5));
  auto future = torch::ones({kSeq, kSeq}, torch::kBool).triu(1);  // key > query
  EXPECT_EQ(attn.masked_select(future).abs().max().item<float>(), 0.0f);
  using torch::indexing::Slice;
  EXPECT_EQ(attn.index({Slice(), 1, Slice(), Slice(), Slice(7)}).abs().max().item<float>(), 0.0f);
}

TEST(BuiltinModels, EncoderIgnoresTokensAtPaddedPositions) {
  auto m = buildEncoderClassifier(TransformerSize{}, kClasses, 3);
  m.eval();
  auto batch = makeBatch(64);
  auto before = run(m, batch).logits;
  batch.ids.index_put_({2, torch::indexing::Slice(4, torch::indexing::None)}, 5);
  auto after = run(m, batch).logits;
  EXPECT_TRUE(torch::allclose(before, after, 1e-6, 1e-6));
}

TEST(BuiltinModels, DecoderIsCausal) {
  auto m = buildDecoderLM(TransformerSize{}, 4);
  m.eval();
  auto ids = torch::arange(kSeq, torch::kInt64).unsqueeze(0);
  auto mask = torch::ones_like(ids);
  auto before = runModel(m, ids, mask, "decoder").logits;
  auto changed = ids.clone();
  changed.index_put_({0, 6}, 50);
  auto after = runModel(m, changed, mask, "decoder").logits;
  using torch::indexing::Slice;
  EXPECT_TRUE(torch::allclose(before.index({Slice(), Slice(0, 6)}),
                              after.index({Slice(), Slice(0, 6)}), 1e-6, 1e-6));
  for (int64_t t = 6; t < kSeq; ++t) {
    EXPECT_FALSE(torch::allclose(before.index({0, t}), after.index({0, t}), 1e-6, 1e-6))
        << "position " << t << " should see the changed token";
  }
}

TEST(BuiltinModels, EvalIsDeterministicAndTrainAppliesDropout) {
  TransformerSize size;
  size.dropout = 0.2;
  for (auto m : {buildEncoderClassifier(size, kClasses, 5), buildDecoderLM(size, 5)}) {
    auto batch = makeBatch(size.vocab_size);
    m.eval();
    EXPECT_FALSE(m.attr("layer1").toModule().is_training());
    EXPECT_TRUE(torch::equal(run(m, batch).logits, run(m, batch).logits));
    m.train();
    EXPECT_TRUE(m.attr("layer1").toModule().is_training());
    EXPECT_FALSE(torch::allclose(run(m, batch).logits, run(m, batch).logits));
  }
}

TEST(BuiltinModels, ZeroDropoutTrainMatchesEval) {
  TransformerSize size;
  size.dropout = 0.0;
  auto m = buildEncoderClassifier(size, kClasses, 6);
  auto batch = makeBatch(size.vocab_size);
  m.train();
  auto trained = run(m, batch).logits;
  m.eval();
  EXPECT_TRUE(torch::allclose(trained, run(m, batch).logits, 1e-6, 1e-6));
}

// Training at dropout 0 draws no random numbers: TorchScript's autodiff would otherwise lower
// torch.dropout to a Bernoulli mask drawn at p = 0 (a quarter of a small student's step).
TEST(BuiltinModels, ZeroDropoutTrainingDrawsNoRandomNumbers) {
  TransformerSize size;
  size.dropout = 0.0;
  for (auto m : {buildEncoderClassifier(size, kClasses, 8), buildDecoderLM(size, 8)}) {
    const auto batch = makeBatch(size.vocab_size);
    m.train();
    auto step = [&] { run(m, batch).logits.to(torch::kFloat).square().sum().backward(); };
    for (int warm = 0; warm < 3; ++warm) step();  // past the executor's profiling runs, into autodiff
    torch::manual_seed(99);
    const torch::Tensor want = torch::rand({8});
    torch::manual_seed(99);
    step();
    EXPECT_TRUE(torch::equal(torch::rand({8}), want)) << "a training step at dropout 0 drew random numbers";
  }
}

TEST(BuiltinModels, GradientsReachEveryParameter) {
  for (auto m : {buildEncoderClassifier(TransformerSize{}, kClasses, 7),
                 buildDecoderLM(TransformerSize{}, 7)}) {
    auto out = run(m, makeBatch(64));
    (out.logits.square().sum() + out.hidden_states.square().mean()).backward();
    for (const auto& p : namedParameters(m)) {
      ASSERT_TRUE(p.tensor.grad().defined()) << p.name;
      EXPECT_GT(p.tensor.grad().abs().sum().item<double>(), 0.0) << p.name;
    }
  }
}

TEST(BuiltinModels, SameSeedGivesSameParametersDifferentSeedDoesNot) {
  TransformerSize size;
  auto a = namedParameters(buildEncoderClassifier(size, kClasses, 11));
  torch::manual_seed(999);  // the global seed must not matter
  auto b = namedParameters(buildEncoderClassifier(size, kClasses, 11));
  auto c = namedParameters(buildEncoderClassifier(size, kClasses, 12));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_TRUE(torch::equal(a[i].tensor, b[i].tensor)) << a[i].name;
  }
  EXPECT_EQ(a[4].name, "layer0.qkv_weight");
  EXPECT_FALSE(torch::equal(a[4].tensor, c[4].tensor));
}

TEST(BuiltinModels, InitialisationFollowsTheScheme) {
  TransformerSize size;
  size.vocab_size = 512;
  size.d_model = 128;
  size.d_ff = 512;
  auto m = buildEncoderClassifier(size, kClasses, 13);
  for (const auto& p : namedParameters(m)) {
    const std::string& n = p.name;
    if (n.find("bias") != std::string::npos) {
      EXPECT_EQ(p.tensor.abs().max().item<float>(), 0.0f) << n;
    } else if (n.find("ln") != std::string::npos || n.find("norm") != std::string::npos) {
      EXPECT_TRUE(torch::equal(p.tensor, torch::ones_like(p.tensor))) << n;
    } else {
      EXPECT_NEAR(p.tensor.mean().item<double>(), 0.0, 0.005) << n;
      EXPECT_NEAR(p.tensor.std().item<double>(), 0.02, 0.003) << n;
    }
  }
}

TEST(BuiltinModels, ParametersAreNamedForSparsityRules) {
  TransformerSize size;
  size.num_layers = 1;
  auto encoder = buildEncoderClassifier(size, kClasses, 1);
  std::vector<std::string> names;
  for (const auto& p : namedParameters(encoder)) names.push_back(p.name);
  const std::vector<std::string> expected = {
      "embed_tokens",      "embed_positions",     "layer0.ln1_weight", "layer0.ln1_bias",
      "layer0.qkv_weight", "layer0.qkv_bias",     "layer0.out_weight", "layer0.out_bias",
      "layer0.ln2_weight", "layer0.ln2_bias",     "layer0.ff1_weight", "layer0.ff1_bias",
      "layer0.ff2_weight", "layer0.ff2_bias",     "final_norm_weight", "final_norm_bias",
      "classifier_weight", "classifier_bias"};
  EXPECT_EQ(names, expected);
  auto params = namedParameters(encoder);
  EXPECT_EQ(params[4].tensor.sizes(), (std::vector<int64_t>{3 * 64, 64}));
  EXPECT_EQ(params[10].tensor.sizes(), (std::vector<int64_t>{128, 64}));

  auto decoder = namedParameters(buildDecoderLM(size, 1));
  EXPECT_EQ(decoder.back().name, "lm_head_weight");
  EXPECT_EQ(decoder.back().tensor.sizes(), (std::vector<int64_t>{64, 64}));
}

TEST(BuiltinModels, TopModuleCarriesIntrospectionAttributes) {
  TransformerSize size;
  size.vocab_size = 80;
  size.max_len = 16;
  size.d_model = 32;
  size.num_layers = 3;
  size.num_heads = 8;
  auto m = buildEncoderClassifier(size, 4, 1);
  EXPECT_EQ(m.attr("distill_arch").toStringRef(), "encoder-classifier");
  EXPECT_EQ(m.attr("num_classes").toInt(), 4);
  EXPECT_EQ(m.attr("vocab_size").toInt(), 80);
  EXPECT_EQ(m.attr("max_len").toInt(), 16);
  EXPECT_EQ(m.attr("d_model").toInt(), 32);
  EXPECT_EQ(m.attr("num_layers").toInt(), 3);
  EXPECT_EQ(m.attr("num_heads").toInt(), 8);
  EXPECT_EQ(m.attr("d_ff").toInt(), 128);
  auto d = buildDecoderLM(size, 1);
  EXPECT_EQ(d.attr("distill_arch").toStringRef(), "decoder-lm");
  EXPECT_FALSE(d.hasattr("num_classes"));
}

TEST(BuiltinModels, InvalidSizesNameTheField) {
  TransformerSize size;
  size.d_model = 60;
  size.num_heads = 8;
  try {
    buildEncoderClassifier(size, 2, 1);
    FAIL() << "expected distill::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("divisible by num_heads"), std::string::npos) << e.what();
  }
  TransformerSize zero_layers;
  zero_layers.num_layers = 0;
  EXPECT_THROW(buildDecoderLM(zero_layers, 1), Error);
  TransformerSize bad_dropout;
  bad_dropout.dropout = 1.0;
  EXPECT_THROW(buildDecoderLM(bad_dropout, 1), Error);
  EXPECT_THROW(buildEncoderClassifier(TransformerSize{}, 0, 1), Error);
}

TEST(BuiltinModels, SequenceLongerThanMaxLenFailsNamingTheModel) {
  TransformerSize size;
  size.max_len = 8;
  auto m = buildDecoderLM(size, 1);
  auto ids = torch::zeros({1, 9}, torch::kInt64);
  try {
    runModel(m, ids, torch::ones_like(ids), "student");
    FAIL() << "expected distill::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("student"), std::string::npos) << msg;
    EXPECT_NE(msg.find("max_len"), std::string::npos) << msg;
  }
}

// Independent reference of the encoder classifier, written head by head with
// plain tensor ops from the parameters: checks the TorchScript computes the
// documented pre-LN block, scaling, GELU, masking and masked-mean pooling.
torch::Tensor referenceEncoderLogits(const std::vector<sparsity::NamedTensor>& params,
                                     const TransformerSize& s, const torch::Tensor& ids,
                                     const torch::Tensor& mask) {
  std::map<std::string, torch::Tensor> p;
  for (const auto& nt : params) p[nt.name] = nt.tensor.detach();
  namespace F = torch::nn::functional;
  auto ln = [&](const torch::Tensor& x, const std::string& w, const std::string& b) {
    auto mu = x.mean(-1, true);
    auto var = (x - mu).square().mean(-1, true);
    return (x - mu) / torch::sqrt(var + 1e-5) * p[w] + p[b];
  };
  const int64_t batch = ids.size(0), seq = ids.size(1), hd = s.d_model / s.num_heads;
  auto x = p["embed_tokens"].index({ids}) + p["embed_positions"].slice(0, 0, seq);
  for (int64_t l = 0; l < s.num_layers; ++l) {
    const std::string pre = "layer" + std::to_string(l) + ".";
    auto h = ln(x, pre + "ln1_weight", pre + "ln1_bias");
    auto qkv = torch::matmul(h, p[pre + "qkv_weight"].t()) + p[pre + "qkv_bias"];
    std::vector<torch::Tensor> heads;
    for (int64_t head = 0; head < s.num_heads; ++head) {
      auto q = qkv.slice(-1, head * hd, (head + 1) * hd);
      auto k = qkv.slice(-1, s.d_model + head * hd, s.d_model + (head + 1) * hd);
      auto v = qkv.slice(-1, 2 * s.d_model + head * hd, 2 * s.d_model + (head + 1) * hd);
      auto scores = torch::matmul(q, k.transpose(1, 2)) / std::sqrt(static_cast<double>(hd));
      scores = scores.masked_fill(mask.unsqueeze(1).eq(0), -INFINITY);
      heads.push_back(torch::matmul(torch::softmax(scores, -1), v));
    }
    auto attended = torch::matmul(torch::cat(heads, -1), p[pre + "out_weight"].t()) + p[pre + "out_bias"];
    x = x + attended;
    h = ln(x, pre + "ln2_weight", pre + "ln2_bias");
    auto ff = torch::matmul(h, p[pre + "ff1_weight"].t()) + p[pre + "ff1_bias"];
    ff = 0.5 * ff * (1.0 + torch::erf(ff / std::sqrt(2.0)));  // exact GELU
    x = x + torch::matmul(ff, p[pre + "ff2_weight"].t()) + p[pre + "ff2_bias"];
  }
  x = ln(x, "final_norm_weight", "final_norm_bias");
  std::vector<torch::Tensor> pooled;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t real = mask[b].sum().item<int64_t>();
    pooled.push_back(x[b].slice(0, 0, real).mean(0));  // masks in makeBatch pad at the end
  }
  return torch::matmul(torch::stack(pooled), p["classifier_weight"].t()) + p["classifier_bias"];
}

TEST(BuiltinModels, EncoderMatchesReferenceImplementation) {
  TransformerSize size;
  size.d_model = 32;
  size.num_heads = 4;
  auto m = buildEncoderClassifier(size, kClasses, 21);
  // Larger weights than the 0.02 init so every part of the block matters.
  {
    torch::NoGradGuard no_grad;
    torch::manual_seed(5);
    for (const auto& p : namedParameters(m)) p.tensor.copy_(torch::randn_like(p.tensor) * 0.5);
  }
  m.eval();
  auto batch = makeBatch(size.vocab_size);
  auto got = run(m, batch).logits;
  auto want = referenceEncoderLogits(namedParameters(m), size, batch.ids, batch.mask);
  EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-4)) << got << "\n" << want;
}

}  // namespace
}  // namespace distill::model
