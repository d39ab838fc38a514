// Checks of a job config that need the models and the data: the student loads,
// every teacher loads, and their output sizes agree with each other and with
// the dataset's classes. Used by `distill validate` and by every worker at start.
#pragma once

#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace distill::trainer {

// Every problem found, each naming the config field and the file.
std::vector<std::string> checkModelsAndData(const config::JobConfig& config);
// Every shard of data.train and data.eval against the checksums in its manifest.
std::vector<std::string> checkDataIntegrity(const config::JobConfig& config);

}  // namespace distill::trainer
