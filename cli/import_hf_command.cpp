// `distill import-hf`: a Hugging Face checkpoint directory into a TorchScript
// model file that a job can use as student or teacher (docs/models.md).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "common/error.h"
#include "common/log.h"
#include "trainer/model/hf/hf_import.h"

namespace distill::cli {
namespace {

struct ImportHfArgs {
  std::string dir, out, dtype = "fp32";
};

int importHf(const ImportHfArgs& a) {
  DISTILL_CHECK(a.dtype == "fp32" || a.dtype == "bf16", "import-hf: --dtype must be fp32 or bf16, got \"", a.dtype,
                "\"");
  const c10::ScalarType dtype = a.dtype == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  model::hf::ImportSummary summary;
  torch::jit::Module module = model::hf::importHf(a.dir, dtype, &summary);
  const std::string wanted = a.dtype == "bf16" ? "BF16" : "F32";
  for (const auto& stored : summary.stored_dtypes) {
    if (stored != wanted) log::info("import-hf: ", a.dir, " stores ", stored, " weights; converted to ", a.dtype);
  }
  module.save(a.out);
  std::printf("wrote %s: %s, %lld parameters, %s\n", a.out.c_str(), summary.architecture.c_str(),
              static_cast<long long>(summary.parameters), a.dtype.c_str());
  return 0;
}

}  // namespace

void addImportHf(CLI::App& app, Run& run) {
  auto a = std::make_shared<ImportHfArgs>();
  auto* cmd = app.add_subcommand("import-hf", "Convert a Hugging Face checkpoint directory to a TorchScript model");
  cmd->add_option("dir", a->dir, "Directory with config.json and model.safetensors (or its shards)")->required();
  cmd->add_option("--out", a->out, "Output TorchScript file")->required();
  cmd->add_option("--dtype", a->dtype, "fp32 | bf16: the dtype of the written weights")->capture_default_str();
  cmd->callback([a, &run] { run = [a] { return importHf(*a); }; });
}

}  // namespace distill::cli
