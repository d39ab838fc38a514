// `distill export`: turns a committed checkpoint into a student that loads
// anywhere: TorchScript with the masks applied (model.pt), the same weights as
// safetensors (model.safetensors) and sparsity_report.json.
//
//   exportStudent("runs/demo/checkpoints/latest", "student/");
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace distill::checkpoint {

struct ExportSummary {
  std::string out_dir;
  double total_sparsity = 0;   // zeros over all parameters
  double pruned_sparsity = 0;  // zeros over the parameters that had masks
};

ExportSummary exportStudent(const std::string& checkpoint_dir, const std::string& out_dir);

}  // namespace distill::checkpoint
