// `distill validate CONFIG [--set a.b=c]...`: every check a job makes before it
// trains (schema, ranges, files, models against data), without training.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "common/config_checks.h"
#include "common/config_loader.h"
#include "common/error.h"
#include "trainer/model_checks.h"

namespace distill::cli {
namespace {

struct ValidateArgs {
  std::string config;
  std::vector<std::string> overrides;
  bool print = false;
};

int validate(const ValidateArgs& args) {
  const config::JobConfig cfg = config::loadJobConfig(args.config, args.overrides);
  auto problems = config::checkJobConfig(cfg);
  if (problems.empty()) {  // models and data need valid paths first
    problems = trainer::checkModelsAndData(cfg);
    const auto data_problems = trainer::checkDataIntegrity(cfg);
    problems.insert(problems.end(), data_problems.begin(), data_problems.end());
  }
  for (const auto& p : problems) std::fprintf(stderr, "%s: %s\n", args.config.c_str(), p.c_str());
  if (!problems.empty()) return kExitBadInput;
  if (args.print) std::printf("%s", config::toYaml(cfg).c_str());
  std::fprintf(stderr, "%s: ok\n", args.config.c_str());
  return 0;
}

}  // namespace

void addValidate(CLI::App& app, Run& run) {
  auto args = std::make_shared<ValidateArgs>();
  auto* cmd = app.add_subcommand("validate", "Check a job config, its files and models, without training");
  cmd->add_option("config", args->config, "YAML job config")->required();
  cmd->add_option("--set", args->overrides, "Override a config field: a.b=c (repeatable)");
  cmd->add_flag("--print", args->print, "Print the resolved config (defaults filled in)");
  cmd->callback([args, &run] { run = [args] { return validate(*args); }; });
}

}  // namespace distill::cli
