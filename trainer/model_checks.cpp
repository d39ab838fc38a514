#include "trainer/model_checks.h"

#include <torch/script.h>

#include "common/dataset_manifest.h"
#include "common/error.h"
#include "trainer/data/dataset.h"
#include "trainer/model/model_io.h"
#include "trainer/sparsity/pruner.h"
#include "trainer/sparsity/structure_groups.h"

namespace distill::trainer {

std::vector<std::string> checkModelsAndData(const config::JobConfig& config, JobModels* loaded) {
  std::vector<std::string> problems;
  data::DatasetManifest manifest;
  try {
    manifest = data::DatasetManifest::load(config.data().train());
  } catch (const Error& e) {
    problems.push_back(detail::concat("data.train: ", e.what()));
    return problems;
  }
  const bool classification = manifest.task == "classification";
  const int64_t expected = classification ? manifest.num_classes : manifest.vocab_size;
  const char* what = classification ? "classes" : "vocabulary entries";

  JobModels models;
  auto outputsOf = [&](const std::string& field, const std::string& path, torch::jit::Module& module) -> int64_t {
    try {
      module = model::loadModel(path);
      return model::outputClasses(module, manifest.seq_len, path);
    } catch (const std::exception& e) {
      problems.push_back(detail::concat(field, ": ", e.what()));
      return -1;
    }
  };

  const int64_t student = outputsOf("student.path", config.student().path(), models.student);
  if (student >= 0 && student != expected) {
    problems.push_back(detail::concat("student.path: ", config.student().path(), " has ", student, " outputs, but ",
                                      config.data().train(), " has ", expected, " ", what));
  }
  for (int i = 0; i < config.distill().teachers_size(); ++i) {
    const auto& teacher = config.distill().teachers(i);
    const std::string field = detail::concat("distill.teachers[", i, "].path");
    models.teachers.emplace_back();
    const int64_t n = outputsOf(field, teacher.path(), models.teachers.back());
    if (n >= 0 && student >= 0 && n != student) {
      problems.push_back(detail::concat(field, ": teacher ", teacher.name(), " (", teacher.path(), ") has ", n,
                                        " outputs, the student (", config.student().path(), ") has ", student));
    }
  }
  // The sparsity rules against the student's parameters and structure groups:
  // granularities that do not fit a parameter, groups that do not fit the model.
  const auto& sp = config.sparsity();
  if (student >= 0 && (sp.enabled() || !sp.gradient_mask().kind().empty())) {
    try {
      sparsity::Pruner(model::namedParameters(models.student), sp, sparsity::modelGroups(models.student, sp),
                       /*total_steps=*/int64_t{1} << 40, config.seed());
    } catch (const std::exception& e) {
      problems.push_back(detail::concat("sparsity (student ", config.student().path(), "): ", e.what()));
    }
  }
  if (loaded && problems.empty()) *loaded = std::move(models);
  return problems;
}

std::vector<std::string> checkDataIntegrity(const config::JobConfig& config) {
  std::vector<std::string> problems;
  // Every shard against its manifest checksum (what a worker does at start).
  for (const auto& [field, dir] : {std::pair<std::string, std::string>{"data.train", config.data().train()},
                                   {"data.eval", config.data().eval()}}) {
    if (dir.empty()) continue;
    try {
      data::ShardedDataset::open(dir);
    } catch (const Error& e) {
      problems.push_back(detail::concat(field, ": ", e.what()));
    }
  }
  return problems;
}

}  // namespace distill::trainer
