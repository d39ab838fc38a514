// `distill inspect EXPORT_DIR|REPORT.json [--json]`: the sparsity report of an
// exported student as a table (per parameter: shape, density, granularity,
// criterion; totals; removed heads and neurons), or the raw JSON.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "common/error.h"
#include "common/files.h"
#include "common/json_file.h"
#include "trainer/checkpoint/export_report.h"

namespace distill::cli {
namespace {

struct InspectArgs {
  std::string path;
  bool json = false;
};

// An export directory stands for its sparsity_report.json.
std::string reportFile(const std::string& path) {
  namespace fs = std::filesystem;
  const std::string file = fs::is_directory(path) ? (fs::path(path) / "sparsity_report.json").string() : path;
  DISTILL_CHECK(files::exists(file), file,
                ": no such file (distill inspect reads an export directory or its sparsity_report.json)");
  return file;
}

int inspect(const InspectArgs& args) {
  const std::string file = reportFile(args.path);
  const JsonFile report(file);  // errors name the file
  if (args.json) {
    std::fputs(files::readFile(file).c_str(), stdout);
  } else {
    std::fputs(checkpoint::formatSparsityReport(report.json(), file).c_str(), stdout);
  }
  return 0;
}

}  // namespace

void addInspect(CLI::App& app, Run& run) {
  auto args = std::make_shared<InspectArgs>();
  auto* cmd = app.add_subcommand("inspect", "Print the sparsity report of an exported student");
  cmd->add_option("path", args->path, "Export directory (from distill export) or its sparsity_report.json")
      ->required();
  cmd->add_flag("--json", args->json, "Print the report as JSON instead of a table");
  cmd->callback([args, &run] { run = [args] { return inspect(*args); }; });
}

}  // namespace distill::cli
