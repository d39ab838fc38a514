// MoEfication of the imported Llama-family decoders (SwiGLU FFNs; trainer/moe/
// ffn_layout.h, trainer/model/hf/routed_import.cpp): the routed copy of
// Llama, Qwen2 and Mistral computes the dense model when every expert runs,
// whatever order the neurons are in, survives save and load, and otherwise
// runs only the picked experts (gate and up rows, down columns, biases
// included) with gradients for them alone; the report's active fraction
// counts the SwiGLU's three matrices; export --format hf and prune refuse it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "../expect_error.h"
#include "../permute_neurons.h"
#include "../scratch_dir.h"
#include "common/safetensors.h"
#include "trainer/model/hf/hf_export.h"
#include "trainer/model/hf/hf_import.h"
#include "trainer/model/model_io.h"
#include "trainer/moe/moefication.h"
#include "trainer/prune/prunable_blocks.h"

namespace distill::moe {
namespace {

using distill::testing::expectError;
using distill::testing::ScratchDir;

std::string fixture(const std::string& name) { return std::string(DISTILL_SOURCE_DIR) + "/tests/fixtures/hf/" + name; }

torch::jit::Module imported(const std::string& family) {
  torch::jit::Module m = model::hf::importHf(fixture(family), torch::kFloat32);
  m.eval();
  return m;
}

// The tiny Llama fixture with random biases on gate, up and down
// (config mlp_bias: true), written to `dir`.
std::string llamaWithMlpBias(const ScratchDir& dir) {
  nlohmann::json config = nlohmann::json::parse(std::ifstream(fixture("llama") + "/config.json"));
  config["mlp_bias"] = true;
  std::ofstream(dir.path("config.json")) << config.dump(2);
  const auto file = safetensors::File::open(fixture("llama") + "/model.safetensors");
  safetensors::Writer out;
  for (const auto& name : file.names()) out.add(name, file.copy(name));
  torch::manual_seed(12);
  const int64_t d = config["hidden_size"], n = config["intermediate_size"];
  for (int i = 0; i < 2; ++i) {
    const std::string mlp = "model.layers." + std::to_string(i) + ".mlp.";
    for (const auto& [name, size] : {std::pair<std::string, int64_t>{"gate_proj", n}, {"up_proj", n}, {"down_proj", d}}) {
      const torch::Tensor b = torch::randn({size}) * 0.1;
      out.add(mlp + name + ".bias", safetensors::DType::F32, {size}, b.data_ptr(), b.numel() * sizeof(float));
    }
  }
  out.write(dir.path("model.safetensors"));
  return dir.path("");
}

torch::Tensor logits(torch::jit::Module& m, const torch::Tensor& ids, const torch::Tensor& mask) {
  return model::runModel(m, ids, mask, "model").logits;
}

// Gate and up rows (and biases), down columns, as moefy moves them.
void permuteNeurons(torch::jit::Module& m, const torch::Tensor& perm) {
  testing::permuteNeurons(m, perm, {"gate_weight", "up_weight", "gate_bias", "up_bias"}, {"down_weight"});
}

TEST(RoutedDecoder, EveryExpertRunningIsTheDenseModel) {
  ScratchDir dir;
  torch::manual_seed(5);
  const torch::Tensor ids = torch::randint(96, {3, 12});
  torch::Tensor mask = torch::ones({3, 12}, torch::kLong);
  mask.index_put_({2, torch::indexing::Slice(7)}, 0);
  for (const std::string family : {"llama", "qwen2", "mistral", "mlp_bias"}) {
    SCOPED_TRACE(family);
    torch::jit::Module dense = family == "mlp_bias" ? model::hf::importHf(llamaWithMlpBias(dir), torch::kFloat32)
                                                    : imported(family);
    dense.eval();
    torch::jit::Module moe = expertsModel(dense, family, 4, 4);
    moe.eval();
    EXPECT_EQ(moe.attr("distill_arch").toStringRef(), dense.attr("distill_arch").toStringRef());
    EXPECT_EQ(moe.attr("ffn_experts").toInt(), 4);
    EXPECT_EQ(moe.attr("layer1").toModule().attr("expert_width").toInt(), 28);
    const torch::Tensor dense_gate = dense.attr("layer0").toModule().attr("gate_weight").toTensor().clone();
    permuteNeurons(moe, torch::randperm(112));
    // The routed copy owns its tensors: permuting it left the dense model alone.
    EXPECT_TRUE(dense.attr("layer0").toModule().attr("gate_weight").toTensor().equal(dense_gate));
    const torch::Tensor expected = logits(dense, ids, mask);
    EXPECT_TRUE(torch::allclose(logits(moe, ids, mask), expected, 1e-4, 1e-5));
    // Written and loaded as distill moefy writes it.
    moe.save(dir.path(family + ".pt"));
    torch::jit::Module loaded = model::loadModel(dir.path(family + ".pt"));
    EXPECT_TRUE(torch::allclose(logits(loaded, ids, mask), expected, 1e-4, 1e-5));
  }
}

TEST(RoutedDecoder, Bf16ImportRoutesInFp32AndEveryExpertRunningIsTheDenseModel) {
  torch::jit::Module dense = model::hf::importHf(fixture("llama"), torch::kBFloat16);
  dense.eval();
  torch::jit::Module moe = expertsModel(dense, "llama", 4, 4);
  moe.eval();
  EXPECT_EQ(moe.attr("layer0").toModule().attr("gate_weight").toTensor().scalar_type(), torch::kBFloat16);
  permuteNeurons(moe, torch::randperm(112));
  torch::manual_seed(7);
  const torch::Tensor ids = torch::randint(96, {2, 12});
  const torch::Tensor mask = torch::ones({2, 12}, torch::kLong);
  // bf16 sums the four experts' outputs in another order than one matmul over all neurons.
  const torch::Tensor a = logits(moe, ids, mask).to(torch::kFloat), b = logits(dense, ids, mask).to(torch::kFloat);
  EXPECT_LT((a - b).abs().max().item<double>(), 0.05 * b.abs().max().item<double>());
  auto block = moe.attr("layer0").toModule();
  const torch::Tensor scores = block.run_method("router_scores", torch::randn({3, 64}).to(torch::kBFloat16)).toTensor();
  EXPECT_EQ(scores.scalar_type(), torch::kFloat);
}

TEST(RoutedDecoder, RoutedFfnRunsOnlyThePickedExperts) {
  ScratchDir dir;
  torch::jit::Module moe = expertsModel(model::hf::importHf(llamaWithMlpBias(dir), torch::kFloat32), "llama", 4, 1);
  moe.eval();
  auto block = moe.attr("layer0").toModule();
  torch::NoGradGuard no_grad;
  // Expert 3 for tokens whose first feature is positive, expert 1 otherwise.
  block.attr("router_weight").toTensor()[3][0] = 10.0;
  block.attr("router_bias").toTensor()[1] = 1e-3;
  torch::manual_seed(6);
  const torch::Tensor h = torch::randn({2, 5, 64});
  const torch::Tensor out = block.run_method("ffn", h).toTensor();
  auto w = [&](const char* name) { return block.attr(name).toTensor(); };
  auto expert = [&](const torch::Tensor& x, int64_t e) {
    const int64_t s = 28 * e;
    const torch::Tensor gate = torch::linear(x, w("gate_weight").narrow(0, s, 28), w("gate_bias").narrow(0, s, 28));
    const torch::Tensor up = torch::linear(x, w("up_weight").narrow(0, s, 28), w("up_bias").narrow(0, s, 28));
    return torch::linear(torch::silu(gate) * up, w("down_weight").narrow(1, s, 28), w("down_bias"));
  };
  const torch::Tensor positive = h.select(-1, 0).gt(0).unsqueeze(-1);
  EXPECT_TRUE(torch::allclose(out, torch::where(positive, expert(h, 3), expert(h, 1)), 1e-5, 1e-6));
}

TEST(RoutedDecoder, GradientsReachOnlyThePickedExpertsAndNotTheRouter) {
  torch::jit::Module moe = expertsModel(imported("llama"), "llama", 4, 1);
  moe.train();
  auto block = moe.attr("layer1").toModule();
  {
    torch::NoGradGuard no_grad;
    block.attr("router_bias").toTensor()[2] = 5.0;  // every token picks expert 2
  }
  const torch::Tensor ids = torch::randint(96, {2, 12});
  logits(moe, ids, torch::ones({2, 12}, torch::kLong)).sum().backward();
  for (const char* name : {"gate_weight", "up_weight"}) {
    const torch::Tensor grad = block.attr(name).toTensor().grad();
    ASSERT_TRUE(grad.defined()) << name;
    EXPECT_EQ(grad.narrow(0, 0, 56).abs().sum().item<double>(), 0.0) << name;
    EXPECT_EQ(grad.narrow(0, 84, 28).abs().sum().item<double>(), 0.0) << name;
    EXPECT_GT(grad.narrow(0, 56, 28).abs().sum().item<double>(), 0.0) << name;
  }
  const torch::Tensor down = block.attr("down_weight").toTensor().grad();
  EXPECT_EQ(down.narrow(1, 0, 56).abs().sum().item<double>(), 0.0);
  EXPECT_GT(down.narrow(1, 56, 28).abs().sum().item<double>(), 0.0);
  for (const auto& p : moe.named_parameters()) EXPECT_EQ(p.name.find("router"), std::string::npos) << p.name;
}

TEST(RoutedDecoder, ActiveFractionCountsTheThreeSwigluMatrices) {
  torch::jit::Module moe = expertsModel(imported("llama"), "llama", 8, 2);
  const double d = 64, ffn = 112 * 3 * d;  // gate and up rows, down columns; no biases
  EXPECT_NEAR(activeFfnFraction(moe), (2 * 14 * 3 * d + 8 * (d + 1)) / ffn, 1e-12);
  EXPECT_NEAR(activeFfnFraction(imported("llama")), 1.0, 1e-12);
}

TEST(RoutedDecoder, BadInputAndLayoutsThatCannotHoldItAreNamed) {
  ScratchDir dir;
  const torch::jit::Module dense = imported("llama");
  expectError([&] { expertsModel(dense, "llama.pt", 5, 2); }, {"llama.pt", "layer0", "112 FFN neurons", "5"});
  expectError([&] { expertsModel(dense, "llama.pt", 224, 2); }, {"fewer than --experts"});
  torch::jit::Module moe = expertsModel(dense, "llama.pt", 4, 2);
  expectError([&] { expertsModel(moe, "moe.pt", 4, 2); }, {"moe.pt", "already has 4 experts"});
  expectError([&] { model::hf::writeHfCheckpoint(moe, dir.path("hf")); },
              {"export --format hf", "routed experts", "4 per FFN, top-2", "--format torchscript"});
  data::DatasetManifest calibration;
  calibration.vocab_size = 96;
  calibration.seq_len = 8;
  expectError([&] { prune::prunableBlocks(moe, "moe.pt", calibration); }, {"moe.pt", "routed experts"});
}

}  // namespace
}  // namespace distill::moe
