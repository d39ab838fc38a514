// `distill export --format hf`: a student imported with `distill import-hf`
// written back in its family's Hugging Face layout (config.json with
// `torch_dtype`, model.safetensors with the family's tensor names), for
// `AutoModel.from_pretrained(DIR)`. FFN neurons pruned whole (every weight of
// the neuron zero) shrink the FFN when every layer lost the same number;
// otherwise the zeros stay in place (a Hugging Face config has one FFN width).
//
//   auto summary = model::hf::writeHfCheckpoint(student, "student-hf/");
#pragma once

#include <cstdint>
#include <string>

#include <torch/script.h>

namespace distill::model::hf {

struct HfExportSummary {
  std::string architecture;
  int64_t ffn_width_before = 0, ffn_width_after = 0;  // equal when nothing was cut
  std::string note;  // why the FFN kept its width, when neurons were pruned but not cut
};

// Throws distill::Error when `module` was not imported from Hugging Face.
HfExportSummary writeHfCheckpoint(const torch::jit::Module& module, const std::string& out_dir);

}  // namespace distill::model::hf
