#include "trainer/model/hf/hf_import.h"

#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#include "common/error.h"
#include "trainer/model/hf/families.h"
#include "trainer/model/hf/hf_config.h"
#include "trainer/model/hf/hf_weights.h"

namespace distill::model::hf {
namespace {

using Importer = std::function<torch::jit::Module(const HfConfig&, HfWeights&)>;

const std::map<std::string, Importer>& importers() {
  static const std::map<std::string, Importer> table = {
      {"BertForSequenceClassification", [](const HfConfig& c, HfWeights& w) { return importBert(c, w, true); }},
      {"BertModel", [](const HfConfig& c, HfWeights& w) { return importBert(c, w, false); }},
      {"GPT2LMHeadModel", importGpt2},
      {"LlamaForCausalLM", importLlama},
      {"MistralForCausalLM", importMistral},
      {"Qwen2ForCausalLM", importQwen2},
  };
  return table;
}

// A config without `architectures` names its family in `model_type`.
std::string fromModelType(const HfConfig& c) {
  static const std::map<std::string, std::string> by_type = {{"bert", "BertModel"},
                                                             {"gpt2", "GPT2LMHeadModel"},
                                                             {"llama", "LlamaForCausalLM"},
                                                             {"mistral", "MistralForCausalLM"},
                                                             {"qwen2", "Qwen2ForCausalLM"}};
  const std::string type = c.string("model_type", "");
  const auto it = by_type.find(type);
  return it == by_type.end() ? type : it->second;
}

}  // namespace

std::vector<std::string> supportedArchitectures() {
  std::vector<std::string> names;
  for (const auto& [name, importer] : importers()) names.push_back(name);
  return names;
}

torch::jit::Module importHf(const std::string& dir, c10::ScalarType dtype, ImportSummary* summary) {
  DISTILL_CHECK(std::filesystem::is_directory(dir), dir, ": not a directory (import-hf reads a Hugging Face "
                "model directory: config.json and model.safetensors)");
  const HfConfig config((std::filesystem::path(dir) / "config.json").string());
  std::string architecture = config.architecture();
  if (architecture.empty()) architecture = fromModelType(config);
  const auto it = importers().find(architecture);
  if (it == importers().end()) {
    std::ostringstream known;
    for (const auto& name : supportedArchitectures()) known << (known.tellp() > 0 ? ", " : "") << name;
    DISTILL_FAIL(config.path(), ": architecture \"", architecture, "\" is not implemented; import-hf reads ", known.str());
  }
  HfWeights weights(dir, dtype);
  torch::jit::Module module = it->second(config, weights);
  weights.checkAllTaken();
  module.eval();
  if (summary) {
    summary->architecture = architecture;
    summary->stored_dtypes = weights.storedDtypes();
    summary->parameters = 0;
    for (const auto& p : module.parameters()) summary->parameters += p.numel();
  }
  return module;
}

}  // namespace distill::model::hf
