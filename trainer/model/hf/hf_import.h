// `distill import-hf`: a Hugging Face checkpoint directory (config.json and
// model.safetensors, or shards listed in model.safetensors.index.json) as a
// TorchScript module built from C++ source, without Python. The family is
// chosen by the config's `architectures` (else its `model_type`); each has
// its reference implementation's math (docs/models.md, "From Hugging Face").
//
//   ImportSummary summary;
//   torch::jit::Module m = model::hf::importHf("llama-dir", torch::kFloat32, &summary);
//   m.save("teacher.pt");
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <torch/script.h>

namespace distill::model::hf {

struct ImportSummary {
  std::string architecture;  // e.g. "LlamaForCausalLM"
  int64_t parameters = 0;
  std::set<std::string> stored_dtypes;  // as in the files, e.g. {"BF16"}
};

// Errors name the file and the field or tensor: an unknown architecture, a
// config field whose value is not implemented, a missing or mis-shaped
// tensor, a tensor no part of the architecture uses.
torch::jit::Module importHf(const std::string& dir, c10::ScalarType dtype, ImportSummary* summary = nullptr);

// The `architectures` names import-hf reads, in a stable order.
std::vector<std::string> supportedArchitectures();

}  // namespace distill::model::hf
