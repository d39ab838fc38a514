// The YAML documents of a text, parsed by yaml-cpp with a guard against the
// inputs it never finishes: yaml-cpp 0.7 (Debian bookworm's) loops forever,
// allocating, on some malformed streams (a lone ",", jbeder/yaml-cpp#1040),
// found here by fuzzing (tests/fuzz/config_yaml_fuzz.cpp). A first pass counts
// the parser's events; a stream cannot hold more nodes than a few per byte,
// so one that does is refused, naming the source and the line, before the
// documents are built.
//
//   std::vector<YAML::Node> docs = loadYamlDocuments(text, "job.yaml");
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace distill::config {

// Throws distill::Error naming `source_name`, line and column on a syntax
// error or an input the parser would loop on.
std::vector<YAML::Node> loadYamlDocuments(const std::string& text, const std::string& source_name);

}  // namespace distill::config
