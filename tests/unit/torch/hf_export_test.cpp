// export --format hf: an imported student written back in its family's layout
// imports again to the same logits; FFN neurons pruned whole in every layer
// shrink the FFN, unevenly pruned ones stay as zeros.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tests/unit/scratch_dir.h"
#include "trainer/checkpoint/export.h"
#include "trainer/data/tensor_io.h"
#include "trainer/model/builtin.h"
#include "trainer/model/hf/hf_export.h"
#include "trainer/model/hf/hf_import.h"
#include "trainer/model/model_io.h"

namespace distill::model::hf {
namespace {

using Tensors = std::map<std::string, torch::Tensor>;

std::string fixture(const std::string& name) { return std::string(DISTILL_SOURCE_DIR) + "/tests/fixtures/hf/" + name; }

torch::Tensor logitsOf(torch::jit::Module& m, const std::string& name) {
  const Tensors inputs = data::loadTensors(fixture(name) + "/inputs.safetensors");
  torch::NoGradGuard no_grad;
  return runModel(m, inputs.at("input_ids"), inputs.at("attention_mask"), name).logits;
}

nlohmann::json configOf(const std::string& dir) { return nlohmann::json::parse(std::ifstream(dir + "/config.json")); }

class RoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(RoundTrip, ImportOfTheExportGivesTheSameLogitsAndTheFamilysTensorNames) {
  const std::string name = GetParam();
  testing::ScratchDir scratch;
  torch::jit::Module student = importHf(fixture(name), torch::kFloat32);
  const HfExportSummary summary = writeHfCheckpoint(student, scratch.path("out"));
  EXPECT_EQ(summary.ffn_width_after, summary.ffn_width_before);
  torch::jit::Module again = importHf(scratch.path("out"), torch::kFloat32);
  EXPECT_TRUE(torch::equal(logitsOf(student, name), logitsOf(again, name)));

  std::set<std::string> original, written;
  for (const auto& [n, t] : data::loadTensors(fixture(name) + "/model.safetensors")) original.insert(n);
  for (const auto& [n, t] : data::loadTensors(scratch.path("out") + "/model.safetensors")) written.insert(n);
  EXPECT_EQ(written, original);
  const nlohmann::json config = configOf(scratch.path("out"));
  EXPECT_EQ(config.at("torch_dtype"), "float32");
  // Every field transformers wrote comes back unchanged, so the same config class reads it.
  const nlohmann::json original_config = configOf(fixture(name));
  for (const auto& [key, value] : original_config.items()) {
    ASSERT_TRUE(config.contains(key)) << key;
    EXPECT_EQ(config.at(key), value) << key;
  }
}

TEST(HfExport, AModelFileExportsWithoutACheckpoint) {
  testing::ScratchDir scratch;
  importHf(fixture("qwen2"), torch::kFloat32).save(scratch.path("qwen2.pt"));
  const auto summary = checkpoint::exportStudent(scratch.path("qwen2.pt"), scratch.path("out"), "hf");
  EXPECT_EQ(summary.format, "hf");
  torch::jit::Module again = importHf(scratch.path("out"), torch::kFloat32);
  torch::jit::Module original = importHf(fixture("qwen2"), torch::kFloat32);
  EXPECT_TRUE(torch::equal(logitsOf(original, "qwen2"), logitsOf(again, "qwen2")));
  try {
    checkpoint::exportStudent(scratch.path("qwen2.pt"), scratch.path("ts"), "torchscript");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("qwen2.pt: a model file is already TorchScript"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(HfExport, RoundTrip,
                         ::testing::Values("bert", "bert_model", "gpt2", "llama", "llama3_rope", "qwen2", "mistral"));

// Zeroes FFN neuron `n` of block `layer` in a Llama-family module.
void zeroNeuron(torch::jit::Module& m, int64_t layer, int64_t n) {
  torch::NoGradGuard no_grad;
  auto block = m.attr("layer" + std::to_string(layer)).toModule();
  block.attr("gate_weight").toTensor()[n].zero_();
  block.attr("up_weight").toTensor()[n].zero_();
  block.attr("down_weight").toTensor().select(1, n).zero_();
}

TEST(HfExport, NeuronsPrunedWholeInEveryLayerShrinkTheFfn) {
  testing::ScratchDir scratch;
  torch::jit::Module student = importHf(fixture("llama"), torch::kFloat32);  // intermediate_size 112, 2 layers
  for (int64_t n : {0, 7, 50}) zeroNeuron(student, 0, n);
  for (int64_t n : {3, 4, 111}) zeroNeuron(student, 1, n);
  const HfExportSummary summary = writeHfCheckpoint(student, scratch.path("out"));
  EXPECT_EQ(summary.ffn_width_before, 112);
  EXPECT_EQ(summary.ffn_width_after, 109);
  EXPECT_EQ(configOf(scratch.path("out")).at("intermediate_size"), 109);
  torch::jit::Module again = importHf(scratch.path("out"), torch::kFloat32);
  EXPECT_LE((logitsOf(student, "llama") - logitsOf(again, "llama")).abs().max().item<double>(), 1e-5);
}

TEST(HfExport, UnevenlyPrunedNeuronsStayAsZeros) {
  testing::ScratchDir scratch;
  torch::jit::Module student = importHf(fixture("llama"), torch::kFloat32);
  zeroNeuron(student, 0, 9);
  const HfExportSummary summary = writeHfCheckpoint(student, scratch.path("out"));
  EXPECT_EQ(summary.ffn_width_after, 112);
  EXPECT_NE(summary.note.find("stay as zeros"), std::string::npos);
  EXPECT_EQ(configOf(scratch.path("out")).at("intermediate_size"), 112);
  torch::jit::Module again = importHf(scratch.path("out"), torch::kFloat32);
  EXPECT_TRUE(torch::equal(logitsOf(student, "llama"), logitsOf(again, "llama")));
}

TEST(HfExport, Bf16StudentIsWrittenAsBf16) {
  testing::ScratchDir scratch;
  torch::jit::Module student = importHf(fixture("qwen2"), torch::kBFloat16);
  writeHfCheckpoint(student, scratch.path("out"));
  EXPECT_EQ(configOf(scratch.path("out")).at("torch_dtype"), "bfloat16");
  for (const auto& [n, t] : data::loadTensors(scratch.path("out") + "/model.safetensors")) {
    EXPECT_EQ(t.scalar_type(), torch::kBFloat16) << n;
  }
}

TEST(HfExport, BuiltInStudentIsRefusedWithAReason) {
  testing::ScratchDir scratch;
  const torch::jit::Module student = buildDecoderLM(TransformerSize{}, 1);
  try {
    writeHfCheckpoint(student, scratch.path("out"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not imported from Hugging Face"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace distill::model::hf
