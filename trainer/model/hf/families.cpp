#include "trainer/model/hf/families.h"

#include <map>
#include <sstream>

#include "common/error.h"

namespace distill::model::hf {
namespace {

const std::map<std::string, Family>& table() {
  static const std::map<std::string, Family> families = {
      {"BertForSequenceClassification", bertFamily(true)},
      {"BertModel", bertFamily(false)},
      {"GPT2LMHeadModel", gpt2Family()},
      {"LlamaForCausalLM", llamaFamily()},
      {"MistralForCausalLM", mistralFamily()},
      {"Qwen2ForCausalLM", qwen2Family()},
  };
  return families;
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

std::vector<std::string> familyArchitectures() {
  std::vector<std::string> names;
  for (const auto& [name, family] : table()) names.push_back(name);
  return names;
}

const Family& familyOf(const HfConfig& config, std::string* architecture) {
  std::string name = config.architecture();
  if (name.empty()) name = fromModelType(config);
  const auto it = table().find(name);
  if (it == table().end()) {
    std::ostringstream known;
    for (const auto& n : familyArchitectures()) known << (known.tellp() > 0 ? ", " : "") << n;
    DISTILL_FAIL(config.path(), ": architecture \"", name, "\" is not implemented; import-hf reads ", known.str());
  }
  if (architecture) *architecture = name;
  return it->second;
}

}  // namespace distill::model::hf
