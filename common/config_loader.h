// Loading a job config: YAML file -> `--set` overrides -> JSON (checked field by
// field against proto/config.proto) -> JobConfig -> defaults. Every error is a
// distill::Error naming the file (or the --set) and the field path:
//
//   JobConfig cfg = config::loadJobConfig("job.yaml", {"training.batch_size=64"});
//   config::throwIfInvalid(cfg, "job.yaml");          // common/config_checks.h
//   files::writeFileAtomic(run_dir + "/config.yaml", config::toYaml(cfg));
//
// Relative paths inside the config (student.path, distill.teachers[i].path,
// data.train, data.eval, run_dir) are NOT rewritten: they are relative to the
// current working directory of the process, which is what a user of mpirun
// expects (every rank starts in the directory mpirun was called from), not
// relative to the config file. See docs/config.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace distill::config {

// The largest job file loadJobConfig reads (1 MiB: a config is a page of YAML).
inline constexpr uint64_t kMaxConfigBytes = uint64_t{1} << 20;

// Reads the YAML job file, applies the overrides ("a.b[i].c=value", in order),
// parses the result and fills in the defaults. Does not check values against
// each other or the file system: that is checkJobConfig (config_checks.h).
JobConfig loadJobConfig(const std::string& yaml_path, const std::vector<std::string>& overrides = {});

// The same for YAML text; `source_name` stands for the file in error messages.
JobConfig parseJobConfig(const std::string& yaml_text, const std::string& source_name,
                         const std::vector<std::string>& overrides = {});

// Sets every unset `optional` field to its default (docs/config.md lists them)
// and creates every section, so that the config reads complete. Idempotent.
void applyDefaults(JobConfig& cfg);

// The config as YAML, every field in schema order (unset optional fields as `~`),
// readable and loadable again: parseJobConfig(toYaml(c)) == c for a config with defaults.
std::string toYaml(const JobConfig& cfg);

// The config as indented JSON with the .proto field names (64-bit integers are
// strings, as in the Protobuf JSON mapping).
std::string toJson(const JobConfig& cfg);

}  // namespace distill::config
