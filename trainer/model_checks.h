// Checks of a job config that need the models and the data: the student loads,
// every teacher loads, their output sizes agree with each other and with
// the dataset's classes (or a teacher's class map), the sparsity rules fit the
// student, and the intermediate terms (distill.terms) find the outputs and
// layers they name: one forward of every model on a dummy sample runs them. Used by `distill validate` and by every worker at start.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <torch/script.h>

#include "proto/config.pb.h"
#include "trainer/distill/layer_outputs.h"

namespace distill::trainer {

// The models of a job, loaded once: the student and the teachers in config order.
struct JobModels {
  torch::jit::Module student;
  std::vector<torch::jit::Module> teachers;
  // Layers, width and heads of each model; measured only when distill.terms is not empty.
  kd::ModelShape student_shape;
  std::vector<kd::ModelShape> teacher_shapes;
};

// Every problem found, each naming the config field and the file. When `loaded`
// is given and there is no problem, the loaded models are moved into it. With
// `progress`, each model loaded is logged with its size and time (large
// teachers take minutes). Models are loaded straight onto `device`.
// `teacher_device`: where the teachers load (default: `device`); the CPU when
// their outputs come from caches and the device is for the student.
// Without `load_teachers` (placement pool: teacher ranks hold them) only the
// student and the data are checked.
std::vector<std::string> checkModelsAndData(const config::JobConfig& config, JobModels* loaded = nullptr,
                                            bool progress = false,
                                            c10::Device device = c10::Device(c10::DeviceType::CPU),
                                            std::optional<c10::Device> teacher_device = std::nullopt,
                                            bool load_teachers = true);
// Every shard of data.train and data.eval against the checksums in its manifest.
std::vector<std::string> checkDataIntegrity(const config::JobConfig& config);

}  // namespace distill::trainer
