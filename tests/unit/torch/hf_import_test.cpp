// import-hf against the real transformers: each tests/fixtures/hf/<name>/ holds
// a tiny random checkpoint, its inputs and the outputs transformers 5.17
// computed in fp32 (tests/fixtures/hf/make_fixtures.py). The imported module
// must give the same logits (1e-4), hidden states and attention maps; then the
// bad inputs: each error names the file and the field or tensor.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tests/unit/scratch_dir.h"
#include "trainer/data/tensor_io.h"
#include "trainer/model/hf/hf_import.h"
#include "trainer/model/model_io.h"

namespace distill::model::hf {
namespace {

namespace fs = std::filesystem;
using Tensors = std::map<std::string, torch::Tensor>;

std::string fixture(const std::string& name) { return std::string(DISTILL_SOURCE_DIR) + "/tests/fixtures/hf/" + name; }

double maxDiff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.sizes() != b.sizes()) return 1e9;
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// Every output transformers wrote, against the imported module's.
void expectConforms(const std::string& name, double tolerance = 1e-4) {
  SCOPED_TRACE(name);
  torch::jit::Module m = importHf(fixture(name), torch::kFloat32);
  const Tensors inputs = data::loadTensors(fixture(name) + "/inputs.safetensors");
  const Tensors expected = data::loadTensors(fixture(name) + "/expected.safetensors");
  torch::NoGradGuard no_grad;
  const c10::IValue raw = m.forward({inputs.at("input_ids"), inputs.at("attention_mask")});
  const auto dict = raw.toGenericDict();
  const ModelOutputs out = runModel(m, inputs.at("input_ids"), inputs.at("attention_mask"), name);
  int checked = 0;
  for (const auto& [key, want] : expected) {
    torch::Tensor got;
    const auto dot = key.find('.');
    if (dot == std::string::npos) {
      got = dict.at(key).toTensor();
    } else {
      const int64_t index = std::stoll(key.substr(dot + 1));
      got = (key.substr(0, dot) == "hidden_states" ? out.hidden_states : out.attentions)[index];
    }
    EXPECT_LE(maxDiff(got, want), tolerance) << key;
    ++checked;
  }
  EXPECT_GE(checked, 5);
  const torch::Tensor& head = expected.count("logits") ? expected.at("logits") : expected.at("pooler_output");
  EXPECT_GT(head.abs().max().item<double>(), 1000 * tolerance) << "fixture too flat to tell errors apart";
}

TEST(HfImport, BertForSequenceClassificationWithPaddingMatchesTransformers) { expectConforms("bert"); }
TEST(HfImport, BertModelMatchesTransformers) { expectConforms("bert_model"); }
TEST(HfImport, Gpt2MatchesTransformers) { expectConforms("gpt2"); }
TEST(HfImport, LlamaMatchesTransformers) { expectConforms("llama"); }
TEST(HfImport, LlamaWithLlama3RopeTiedHeadAndBiasesMatchesTransformers) { expectConforms("llama3_rope"); }
TEST(HfImport, LlamaWithLinearRopeMatchesTransformers) { expectConforms("llama_linear_rope"); }
TEST(HfImport, Qwen2MatchesTransformers) { expectConforms("qwen2"); }
TEST(HfImport, MistralMatchesTransformers) { expectConforms("mistral"); }

// A copy of a fixture whose config.json `edit` rewrites (weights linked, not copied).
std::string editedCopy(const testing::ScratchDir& scratch, const std::string& name,
                       const std::function<void(nlohmann::json&)>& edit) {
  const std::string dir = scratch.path(name);
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(fixture(name))) {
    if (entry.path().filename() != "config.json") fs::create_symlink(entry.path(), fs::path(dir) / entry.path().filename());
  }
  nlohmann::json config = nlohmann::json::parse(std::ifstream(fixture(name) + "/config.json"));
  edit(config);
  std::ofstream(dir + "/config.json") << config.dump(2);
  return dir;
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(HfImport, ReadsTheRopeLayoutOfTransformers4) {
  // Before transformers 5: rope_theta at the top, the scaling in rope_scaling with "type", torch_dtype.
  testing::ScratchDir scratch;
  const std::string dir = editedCopy(scratch, "llama3_rope", [](nlohmann::json& c) {
    nlohmann::json rope = c["rope_parameters"];
    c.erase("rope_parameters");
    c["rope_theta"] = rope["rope_theta"];
    rope.erase("rope_theta");
    rope["type"] = rope["rope_type"];
    rope.erase("rope_type");
    c["rope_scaling"] = rope;
    c["torch_dtype"] = c["dtype"];
    c.erase("dtype");
  });
  const Tensors inputs = data::loadTensors(fixture("llama3_rope") + "/inputs.safetensors");
  const Tensors expected = data::loadTensors(fixture("llama3_rope") + "/expected.safetensors");
  torch::jit::Module m = importHf(dir, torch::kFloat32);
  torch::NoGradGuard no_grad;
  EXPECT_LE(maxDiff(runModel(m, inputs.at("input_ids"), inputs.at("attention_mask"), "m").logits,
                    expected.at("logits")), 1e-4);
}

TEST(HfImport, SavedModuleLoadsAndGivesTheSameLogits) {
  testing::ScratchDir scratch;
  torch::jit::Module m = importHf(fixture("qwen2"), torch::kFloat32);
  m.save(scratch.path("qwen2.pt"));
  torch::jit::Module loaded = loadModel(scratch.path("qwen2.pt"), torch::kCPU);
  const Tensors inputs = data::loadTensors(fixture("qwen2") + "/inputs.safetensors");
  torch::NoGradGuard no_grad;
  const auto a = runModel(m, inputs.at("input_ids"), inputs.at("attention_mask"), "m").logits;
  const auto b = runModel(loaded, inputs.at("input_ids"), inputs.at("attention_mask"), "loaded").logits;
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_EQ(loaded.attr("distill_arch").toStringRef(), "hf-qwen2");
}

TEST(HfImport, Bf16ImportStaysCloseToFp32) {
  torch::jit::Module m = importHf(fixture("llama"), torch::kBFloat16);
  for (const auto& p : m.parameters()) EXPECT_EQ(p.scalar_type(), torch::kBFloat16);
  const Tensors inputs = data::loadTensors(fixture("llama") + "/inputs.safetensors");
  const Tensors expected = data::loadTensors(fixture("llama") + "/expected.safetensors");
  torch::NoGradGuard no_grad;
  const auto logits = runModel(m, inputs.at("input_ids"), inputs.at("attention_mask"), "m").logits.to(torch::kFloat);
  const double scale = expected.at("logits").abs().max().item<double>();
  EXPECT_LT(maxDiff(logits, expected.at("logits")), 0.1 * scale);
}

TEST(HfImport, ShardedCheckpointIsReadThroughItsIndex) {
  testing::ScratchDir scratch;
  const std::string dir = scratch.path("sharded");
  fs::create_directories(dir);
  fs::copy_file(fixture("mistral") + "/config.json", dir + "/config.json");
  const Tensors all = data::loadTensors(fixture("mistral") + "/model.safetensors");
  std::vector<std::pair<std::string, torch::Tensor>> first, second;
  nlohmann::json index = {{"metadata", nlohmann::json::object()}, {"weight_map", nlohmann::json::object()}};
  for (const auto& [name, t] : all) {
    const bool in_first = name.find("layers.1.") == std::string::npos;
    (in_first ? first : second).emplace_back(name, t);
    index["weight_map"][name] = in_first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  data::saveTensors(dir + "/model-00001-of-00002.safetensors", first);
  data::saveTensors(dir + "/model-00002-of-00002.safetensors", second);
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump();
  const Tensors inputs = data::loadTensors(fixture("mistral") + "/inputs.safetensors");
  const Tensors expected = data::loadTensors(fixture("mistral") + "/expected.safetensors");
  torch::jit::Module m = importHf(dir, torch::kFloat32);
  torch::NoGradGuard no_grad;
  EXPECT_LE(maxDiff(runModel(m, inputs.at("input_ids"), inputs.at("attention_mask"), "m").logits,
                    expected.at("logits")), 1e-4);

  fs::remove(dir + "/model-00002-of-00002.safetensors");
  const std::string error = errorOf([&] { importHf(dir, torch::kFloat32); });
  EXPECT_NE(error.find("shard model-00002-of-00002.safetensors"), std::string::npos) << error;
  EXPECT_NE(error.find("is missing"), std::string::npos) << error;
}

// A copy of a fixture whose weights file `edit` rewrites.
std::string weightsCopy(const testing::ScratchDir& scratch, const std::string& name,
                        const std::function<void(Tensors&)>& edit) {
  const std::string dir = scratch.path(name + "-weights");
  fs::create_directories(dir);
  fs::copy_file(fixture(name) + "/config.json", dir + "/config.json");
  Tensors tensors = data::loadTensors(fixture(name) + "/model.safetensors");
  edit(tensors);
  std::vector<std::pair<std::string, torch::Tensor>> list(tensors.begin(), tensors.end());
  data::saveTensors(dir + "/model.safetensors", list);
  return dir;
}

TEST(HfImport, BadCheckpointsGetErrorsNamingFileAndTensorOrField) {
  testing::ScratchDir scratch;
  std::string e = errorOf([&] {
    importHf(weightsCopy(scratch, "llama", [](Tensors& t) { t.erase("model.layers.1.mlp.up_proj.weight"); }),
             torch::kFloat32);
  });
  EXPECT_NE(e.find("tensor model.layers.1.mlp.up_proj.weight is missing"), std::string::npos) << e;

  e = errorOf([&] {
    importHf(weightsCopy(scratch, "gpt2",
                         [](Tensors& t) { t["transformer.h.0.mlp.c_fc.weight"] = torch::zeros({48, 100}); }),
             torch::kFloat32);
  });
  EXPECT_NE(e.find("tensor transformer.h.0.mlp.c_fc.weight has shape [48, 100], the config.json implies [48, 192]"),
            std::string::npos) << e;

  e = errorOf([&] {
    importHf(weightsCopy(scratch, "qwen2", [](Tensors& t) { t["model.layers.0.self_attn.q_norm.weight"] = torch::ones({16}); }),
             torch::kFloat32);
  });
  EXPECT_NE(e.find("does not use: model.layers.0.self_attn.q_norm.weight"), std::string::npos) << e;

  e = errorOf([&] {
    importHf(editedCopy(scratch, "llama", [](nlohmann::json& c) { c["rope_parameters"]["rope_type"] = "yarn"; }),
             torch::kFloat32);
  });
  EXPECT_NE(e.find("config.json: rope type \"yarn\""), std::string::npos) << e;

  e = errorOf([&] {
    importHf(editedCopy(scratch, "mistral", [](nlohmann::json& c) { c["architectures"] = {"MixtralForCausalLM"}; }),
             torch::kFloat32);
  });
  EXPECT_NE(e.find("config.json: architecture \"MixtralForCausalLM\" is not implemented"), std::string::npos) << e;

  e = errorOf([&] {
    importHf(editedCopy(scratch, "bert", [](nlohmann::json& c) { c["position_embedding_type"] = "relative_key"; }),
             torch::kFloat32);
  });
  EXPECT_NE(e.find("field \"position_embedding_type\" is \"relative_key\""), std::string::npos) << e;

  e = errorOf([&] { importHf(scratch.path("absent"), torch::kFloat32); });
  EXPECT_NE(e.find("not a directory"), std::string::npos) << e;

  // Sizes and counts are bounded before anything is allocated from them (found by fuzzing: 80 TB asked for).
  testing::ScratchDir bounded;
  e = errorOf([&] {
    importHf(editedCopy(bounded, "llama", [](nlohmann::json& c) { c["head_dim"] = 44444444444416; }), torch::kFloat32);
  });
  EXPECT_NE(e.find("config.json: field \"head_dim\" must be an integer in [1, 16777216], got 44444444444416"),
            std::string::npos) << e;
  e = errorOf([&] {
    importHf(editedCopy(bounded, "gpt2", [](nlohmann::json& c) { c["n_layer"] = 1000000000; }), torch::kFloat32);
  });
  EXPECT_NE(e.find("field \"n_layer\" must be an integer in [1, 4096]"), std::string::npos) << e;
}

TEST(HfImport, MistralRefusesASequenceLongerThanItsSlidingWindow) {
  torch::jit::Module m = importHf(fixture("mistral"), torch::kFloat32);  // sliding_window 16
  const auto ids = torch::ones({1, 17}, torch::kLong);
  const std::string e = errorOf([&] { runModel(m, ids, torch::ones_like(ids), "mistral"); });
  EXPECT_NE(e.find("sliding_window"), std::string::npos) << e;
  torch::NoGradGuard no_grad;
  EXPECT_NO_THROW(runModel(m, ids.narrow(1, 0, 16), torch::ones({1, 16}, torch::kLong), "mistral"));
}

}  // namespace
}  // namespace distill::model::hf
