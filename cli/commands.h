// The subcommands of `distill`, one file each. Each adds itself to the app and
// sets the function that runs it; the function returns the exit code.
#pragma once

#include <functional>

#include "common/exit_codes.h"

namespace CLI {
class App;
}

namespace distill::cli {

using Run = std::function<int()>;

void addTrain(CLI::App& app, Run& run);
void addValidate(CLI::App& app, Run& run);
void addInitModel(CLI::App& app, Run& run);
void addPrepareData(CLI::App& app, Run& run);
void addExport(CLI::App& app, Run& run);
void addEvaluate(CLI::App& app, Run& run);
void addInspect(CLI::App& app, Run& run);
void addImportHf(CLI::App& app, Run& run);
void addTokenize(CLI::App& app, Run& run);
void addPrune(CLI::App& app, Run& run);
void addMoefy(CLI::App& app, Run& run);

// Exit codes shared by the subcommands (docs/cli.md): common/exit_codes.h.
using distill::kExitBadInput;

}  // namespace distill::cli
