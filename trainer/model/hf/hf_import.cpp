#include "trainer/model/hf/hf_import.h"

#include <filesystem>

#include "common/error.h"
#include "trainer/model/hf/families.h"
#include "trainer/model/hf/hf_config.h"
#include "trainer/model/hf/hf_weights.h"

namespace distill::model::hf {

std::vector<std::string> supportedArchitectures() { return familyArchitectures(); }

torch::jit::Module importHf(const std::string& dir, c10::ScalarType dtype, ImportSummary* summary) {
  DISTILL_CHECK(std::filesystem::is_directory(dir), dir, ": not a directory (import-hf reads a Hugging Face "
                "model directory: config.json and model.safetensors)");
  const HfConfig config((std::filesystem::path(dir) / "config.json").string());
  std::string architecture;
  const Family& family = familyOf(config, &architecture);
  HfWeights weights(dir, dtype);
  torch::jit::Module module = family.build(config, weights);
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
