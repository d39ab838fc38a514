#include "common/config_loader.h"

#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/config_overrides.h"
#include "common/config_yaml_to_json.h"
#include "common/error.h"
#include "common/yaml_documents.h"

namespace distill::config {

JobConfig parseJobConfig(const std::string& yaml_text, const std::string& source_name,
                         const std::vector<std::string>& overrides) {
  const std::vector<YAML::Node> documents = loadYamlDocuments(yaml_text, source_name);
  DISTILL_CHECK(documents.size() <= 1, source_name, ": holds ", documents.size(),
                " YAML documents (separated by ---); a job file holds one");
  // An empty file is an empty config: the checks then name the required fields.
  YAML::Node root = documents.empty() ? YAML::Node(YAML::NodeType::Map) : documents[0];

  for (const std::string& assignment : overrides) applyOverride(root, assignment);

  const std::string json = yamlMessageToJson(*JobConfig::descriptor(), root, YamlWhere{source_name, "", -1, true}).dump();
  JobConfig cfg;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, &cfg, options);
  // The walk above already checked every field and type; a failure here is a bug.
  DISTILL_ASSERT(status.ok(), source_name, ": the JSON of the config did not parse: ", status.ToString());
  applyDefaults(cfg);
  return cfg;
}

JobConfig loadJobConfig(const std::string& yaml_path, const std::vector<std::string>& overrides) {
  std::ifstream in(yaml_path, std::ios::binary);
  DISTILL_CHECK(in, yaml_path, ": cannot read the job config (no such file or not readable)");
  // A job config is a page of YAML; megabytes are a data file named by mistake
  // (a 60 MB one took 77 s and 5.6 GB to parse). A FIFO has no size: read it.
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(yaml_path, ec);
  DISTILL_CHECK(ec || bytes <= kMaxConfigBytes, yaml_path, ": ", bytes, " bytes; a job config is at most ",
                kMaxConfigBytes, " bytes (is it a data file?)");
  std::ostringstream text;
  text << in.rdbuf();
  return parseJobConfig(text.str(), yaml_path, overrides);
}

std::string toJson(const JobConfig& cfg) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(cfg, &out, options);
  DISTILL_ASSERT(status.ok(), status.ToString());
  return out;
}

}  // namespace distill::config
