// distill: sparse training and multi-teacher distillation across MPI ranks.
// `distill --help` lists the subcommands; docs/cli.md describes them.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "common/error.h"
#include "common/heap_reuse.h"
#include "common/log.h"

int main(int argc, char** argv) {
  CLI::App app{"distill: sparse training and multi-teacher distillation"};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Debug logging");
  distill::cli::Run run;
  distill::cli::addTrain(app, run);
  distill::cli::addValidate(app, run);
  distill::cli::addPrune(app, run);
  distill::cli::addMoefy(app, run);
  distill::cli::addInitModel(app, run);
  distill::cli::addPrepareData(app, run);
  distill::cli::addExport(app, run);
  distill::cli::addEvaluate(app, run);
  distill::cli::addInspect(app, run);
  distill::cli::addImportHf(app, run);
  distill::cli::addTokenize(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  distill::log::setVerbose(verbose);
  distill::log::debug(distill::keepFreedMemoryForReuse());
  try {
    return run();
  } catch (const distill::Error& e) {
    distill::log::error(e.what());
    return distill::cli::kExitBadInput;
  } catch (const std::exception& e) {
    distill::log::error(e.what());
    return 1;
  }
}
