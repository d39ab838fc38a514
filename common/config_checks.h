// Semantic checks of a loaded job config: required fields, files that must
// exist, value ranges, known names and rules between fields. All problems are
// collected, not just the first, and each message starts with the field path:
//
//   JobConfig cfg = config::loadJobConfig("job.yaml", overrides);
//   config::throwIfInvalid(cfg, "job.yaml");
//   // distill::Error: job.yaml: 2 problems in the job config:
//   //   training.batch_size: must be > 0, got 0
//   //   distill.combiner: unknown combiner "max" (accepted: mean, weights, confidence)
//
// Run them on a config with defaults applied (loadJobConfig does that). Checks
// that need the models or the data (class counts, vocabularies) live with the
// trainer, which has LibTorch. Relative paths are checked against the current
// working directory, as they will be used.
#pragma once

#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace distill::config {

// The accepted names of the string-valued choices. A new criterion, combiner,
// schedule... is added to its registry in the trainer and to its list here.
extern const std::vector<std::string> kOptimizers;     // optimizer.name
extern const std::vector<std::string> kDecays;         // optimizer.decay
extern const std::vector<std::string> kCombiners;      // distill.combiner
extern const std::vector<std::string> kCriteria;       // sparsity.criterion
extern const std::vector<std::string> kGranularities;  // sparsity.granularity
extern const std::vector<std::string> kScopes;         // sparsity.scope
extern const std::vector<std::string> kSchedules;      // sparsity.schedule
extern const std::vector<std::string> kBackends;       // runtime.backend
extern const std::vector<std::string> kPrecisions;     // runtime.precision

// Every problem found, one message each, "FIELD.PATH: what is wrong"; empty when valid.
std::vector<std::string> checkJobConfig(const JobConfig& cfg);

// Throws one distill::Error listing every problem, prefixed by `source` (the job file).
void throwIfInvalid(const JobConfig& cfg, const std::string& source);

}  // namespace distill::config
