// `distill export`: turns a committed checkpoint into a student that loads
// anywhere: TorchScript with the masks applied (model.pt), the same weights as
// safetensors (model.safetensors) and sparsity_report.json (export_report.h).
// With format "hf", a student imported from Hugging Face is written back in
// its family's layout instead (config.json, model.safetensors; model/hf/hf_export.h);
// with "hf", the source may also be a model file (an import-hf output).
// When the run pruned whole heads or neurons of a built-in student, they are
// removed physically (structured_export.h): the student gets smaller and
// computes the same outputs.
//
//   auto summary = exportStudent("runs/demo/checkpoints/latest", "student/");
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace distill::checkpoint {

struct ExportSummary {
  std::string out_dir;
  double total_sparsity = 0;   // zeros over all parameters (of the masked model)
  double pruned_sparsity = 0;  // zeros over the parameters that had masks
  bool structured = false;     // heads/neurons were removed physically
  int64_t parameters_before = 0;  // scalar parameters of the checkpoint's model
  int64_t parameters_after = 0;   // of the exported model
  std::string format = "torchscript";  // or "hf"
  std::string note;                    // what the format could not keep (hf: an FFN left at full width)
};

// `checkpoint_dir`: a committed checkpoint directory, or (format "hf") a model file.
// Throws distill::Error naming the file when the checkpoint is incomplete or
// does not match its student module.
// `level`: a job with sparsity.levels exports that level's masks (one of the
// levels its trainer.json lists) instead of the densest.
ExportSummary exportStudent(const std::string& checkpoint_dir, const std::string& out_dir,
                            const std::string& format = "torchscript", std::optional<double> level = std::nullopt);

}  // namespace distill::checkpoint
