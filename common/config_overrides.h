// Command-line overrides of a job file: `--set a.b=c` assignments applied to the
// YAML tree before it is converted, so they obey the same schema and produce
// the same field-path errors as the file itself.
//
//   YAML::Node root = YAML::LoadFile("job.yaml");
//   applyOverride(root, "distill.teachers[0].weight=2");   // index one past the end appends
//   applyOverride(root, "sparsity.include=[.*ffn.*, .*attn.*]");
//
// The value is read as YAML (a scalar, or a flow list/map); an empty value
// (`data.eval=`) unsets the field.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace distill::config {

// Applies one "PATH=VALUE" assignment to the tree of a JobConfig. Throws
// distill::Error naming the assignment and the field path when the path is not
// in the schema or the value has the wrong type.
void applyOverride(YAML::Node& root, const std::string& assignment);

}  // namespace distill::config
