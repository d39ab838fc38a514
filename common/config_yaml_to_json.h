// The YAML -> JSON step of the config loader: walks a YAML tree alongside a
// Protobuf Descriptor and produces the message's JSON form (snake_case field
// names), so that JsonStringToMessage can parse it. Walking both together is
// what lets every error name the file and the full field path:
//
//   job.yaml: distill.teachers[1]: unknown field "pth" (known: name, path, weight); did you mean "path"? (line 14)
//   job.yaml: training.batch_size: expected an unsigned integer, got "abc" (line 7)
//
//   YamlWhere where{"job.yaml"};
//   nlohmann::json j = yamlMessageToJson(*JobConfig::descriptor(), YAML::LoadFile("job.yaml"), where);
//
// Used by config_loader.cpp and config_overrides.cpp; not a user-facing API.
#pragma once

#include <google/protobuf/descriptor.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>

namespace distill::config {

// Where a YAML node sits, for error messages.
struct YamlWhere {
  std::string source;      // the file name, or "--set a.b=c" for an override
  std::string path;        // "distill.teachers[1]"; empty at the top level
  int line = -1;           // 0-based YAML line of the node, -1 when unknown
  bool show_lines = true;  // override values come from a string: their lines mean nothing

  YamlWhere child(const std::string& field, const YAML::Node& key, const YAML::Node& value) const;
  YamlWhere element(size_t index, const YAML::Node& value) const;
};

// Throws distill::Error "SOURCE: PATH: MESSAGE (line N)".
[[noreturn]] void failAt(const YamlWhere& where, const std::string& message);

// `node` must be a map (or null: an empty message) of the message's fields.
nlohmann::json yamlMessageToJson(const google::protobuf::Descriptor& message, const YAML::Node& node,
                                 const YamlWhere& where);

// The value of one field: a list for repeated fields, else one element.
nlohmann::json yamlFieldToJson(const google::protobuf::FieldDescriptor& field, const YAML::Node& node,
                               const YamlWhere& where);

// One element of the field (the field itself when it is not repeated).
nlohmann::json yamlElementToJson(const google::protobuf::FieldDescriptor& field, const YAML::Node& node,
                                 const YamlWhere& where);

// `unknown field "pth" (known: name, path, weight); did you mean "path"?`
std::string unknownFieldMessage(const google::protobuf::Descriptor& message, const std::string& name);

// How a YAML node reads in an error: `"abc"`, `a list`, `a map`, `nothing`.
std::string describeYaml(const YAML::Node& node);

}  // namespace distill::config
