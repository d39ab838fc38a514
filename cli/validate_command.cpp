// `distill validate CONFIG [--set a.b=c]...`: every check a job makes before it
// trains (schema, ranges, files, models against data), without training.
#include <algorithm>
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "common/config_checks.h"
#include "common/config_loader.h"
#include "common/dataset_manifest.h"
#include "common/error.h"
#include "common/teacher_placement.h"
#include "coordinator/teacher_plan.h"
#include "trainer/model_checks.h"

namespace distill::cli {
namespace {

struct ValidateArgs {
  std::string config;
  std::vector<std::string> overrides;
  bool print = false;
  int teacher_ranks = 0;  // the launch the plan is for (launch/distill-mpirun -n RANKS --teacher-ranks P)
  int ranks = 0;          // 0: one worker besides the teacher ranks
};

int validate(const ValidateArgs& args) {
  const config::JobConfig cfg = config::loadJobConfig(args.config, args.overrides);
  auto problems = config::checkJobConfig(cfg);
  const int workers = args.ranks > 0 ? args.ranks - args.teacher_ranks : 1;
  if (const std::string pool = placement::poolProblem(cfg, args.teacher_ranks, workers); !pool.empty()) {
    problems.push_back(pool);
  }
  if (problems.empty()) {  // models and data need valid paths first
    problems = trainer::checkModelsAndData(cfg);
    // A manifest both checks read fails both alike: say it once.
    for (const auto& p : trainer::checkDataIntegrity(cfg)) {
      if (std::find(problems.begin(), problems.end(), p) == problems.end()) problems.push_back(p);
    }
  }
  for (const auto& p : problems) std::fprintf(stderr, "%s: %s\n", args.config.c_str(), p.c_str());
  if (!problems.empty()) return kExitBadInput;
  if (args.print) {
    std::printf("%s", config::toYaml(cfg).c_str());
    // The teachers' placement as the coordinator would plan it (epochs at one
    // worker when training.max_steps is set: the plan only asks whether it is >= 2).
    const auto manifest = data::DatasetManifest::load(cfg.data().train());
    const double epochs =
        cfg.training().max_steps() > 0
            ? static_cast<double>(cfg.training().max_steps()) * cfg.training().batch_size() /
                  static_cast<double>(std::max<uint64_t>(manifest.num_samples, 1))
            : static_cast<double>(cfg.training().epochs());
    const auto plan = coordinator::planTeachers(cfg, manifest, workers, epochs, args.teacher_ranks);
    std::printf("# teacher placement: %s (%s)\n", plan.plan.placement.c_str(), plan.plan.reason.c_str());
    for (const auto& note : plan.notes) std::printf("#   %s\n", note.c_str());
  }
  std::fprintf(stderr, "%s: ok\n", args.config.c_str());
  return 0;
}

}  // namespace

void addValidate(CLI::App& app, Run& run) {
  auto args = std::make_shared<ValidateArgs>();
  auto* cmd = app.add_subcommand("validate", "Check a job config, its files and models, without training");
  cmd->add_option("config", args->config, "YAML job config")->required();
  cmd->add_option("--set", args->overrides, "Override a config field: a.b=c (repeatable)");
  cmd->add_flag("--print", args->print, "Print the resolved config (defaults filled in) and the teacher placement");
  cmd->add_option("-n", args->ranks, "Plan for a launch with this many ranks besides the coordinator (launch/distill-mpirun -n)");
  cmd->add_option("--teacher-ranks", args->teacher_ranks,
                  "Plan for a launch with this many teacher ranks (launch/distill-mpirun --teacher-ranks)");
  cmd->callback([args, &run] { run = [args] { return validate(*args); }; });
}

}  // namespace distill::cli
