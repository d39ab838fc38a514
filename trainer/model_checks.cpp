#include "trainer/model_checks.h"

#include <filesystem>

#include <torch/script.h>

#include "common/dataset_manifest.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/log.h"
#include "trainer/data/dataset.h"
#include "trainer/distill/intermediate_loss.h"
#include "trainer/model/model_io.h"
#include "trainer/sparsity/pruner.h"
#include "trainer/sparsity/structure_groups.h"

namespace distill::trainer {
namespace {

// The layer outputs of one forward on a dummy sample of `seq_len` real tokens.
kd::LayerOutputs dummyForward(torch::jit::Module& m, int64_t seq_len, const std::string& name) {
  torch::NoGradGuard no_grad;
  const auto ids = torch::ones({1, seq_len}, torch::TensorOptions().dtype(torch::kInt64).device(model::deviceOf(m)));
  const auto out = model::runModel(m, ids, torch::ones_like(ids), name);
  // The term checks run on the CPU, wherever the models are.
  auto onCpu = [](const torch::Tensor& t) { return t.defined() ? t.cpu() : t; };
  return {onCpu(out.hidden_states), onCpu(out.attentions)};
}

// Runs every term once, so a missing output, a layer out of range or a head
// count that does not map fails here (and in `distill validate`), naming the
// term's field, instead of at the first step.
void checkTerms(const config::JobConfig& config, int64_t seq_len, JobModels& models,
                std::vector<std::string>& problems) {
  const auto& spec = config.distill();
  try {
    const kd::LayerOutputs student = dummyForward(models.student, seq_len, "student " + config.student().path());
    models.student_shape = kd::shapeOf(student, "student " + config.student().path());
    std::vector<kd::LayerOutputs> teachers;
    models.teacher_shapes.clear();
    for (int k = 0; k < spec.teachers_size(); ++k) {
      const std::string name = "teacher " + spec.teachers(k).name() + " (" + spec.teachers(k).path() + ")";
      teachers.push_back(dummyForward(models.teachers[static_cast<size_t>(k)], seq_len, name));
      models.teacher_shapes.push_back(kd::shapeOf(teachers.back(), name));
    }
    const kd::Projections projections =
        kd::createProjections(spec, models.student_shape, models.teacher_shapes, config.seed());
    const auto k = static_cast<int64_t>(teachers.size());
    torch::NoGradGuard no_grad;
    kd::intermediateLoss(spec, student, teachers, torch::ones({1, seq_len}, torch::kInt64),
                         torch::full({k, 1}, 1.0 / static_cast<double>(std::max<int64_t>(k, 1))), projections);
  } catch (const std::exception& e) {
    problems.push_back(e.what());
  }
}

}  // namespace

std::vector<std::string> checkModelsAndData(const config::JobConfig& config, JobModels* loaded, bool progress,
                                            c10::Device device, std::optional<c10::Device> teacher_device,
                                            bool load_teachers) {
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
  auto outputsOf = [&](const std::string& field, const std::string& path, torch::jit::Module& module,
                       c10::Device where) -> int64_t {
    try {
      const double start = clock::monotonicSeconds();
      module = model::loadModel(path, where);
      const int64_t classes = model::outputClasses(module, manifest.seq_len, path);
      if (progress) {
        std::error_code ec;
        const auto bytes = std::filesystem::file_size(path, ec);
        log::info("loaded and checked ", field, " ", path, " (", ec ? 0.0 : static_cast<double>(bytes) / 1e6, " MB) in ",
                  clock::monotonicSeconds() - start, " s");
      }
      return classes;
    } catch (const std::exception& e) {
      problems.push_back(detail::concat(field, ": ", e.what()));
      return -1;
    }
  };

  const int64_t student = outputsOf("student.path", config.student().path(), models.student, device);
  if (student >= 0 && student != expected) {
    problems.push_back(detail::concat("student.path: ", config.student().path(), " has ", student, " outputs, but ",
                                      config.data().train(), " has ", expected, " ", what));
  }
  for (int i = 0; load_teachers && i < config.distill().teachers_size(); ++i) {
    const auto& teacher = config.distill().teachers(i);
    const std::string field = detail::concat("distill.teachers[", i, "].path");
    models.teachers.emplace_back();
    const int64_t n = outputsOf(field, teacher.path(), models.teachers.back(), teacher_device.value_or(device));
    if (n >= 0 && teacher.classes_size() > 0) {
      // Amalgamation: the class map says which student class each output is.
      if (n != teacher.classes_size()) {
        problems.push_back(detail::concat("distill.teachers[", i, "].classes: teacher ", teacher.name(), " (",
                                          teacher.path(), ") has ", n, " outputs, the class map lists ",
                                          teacher.classes_size()));
      }
    } else if (n >= 0 && student >= 0 && n != student) {
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
  if (problems.empty() && config.distill().terms_size() > 0) {
    checkTerms(config, manifest.seq_len, models, problems);
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
