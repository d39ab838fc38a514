#include "common/config_overrides.h"

#include <cctype>
#include <vector>

#include "common/config_yaml_to_json.h"
#include "common/error.h"
#include "proto/config.pb.h"

namespace distill::config {
namespace gpb = google::protobuf;
namespace {

// One step of "distill.teachers[0].weight": a field name and an optional index.
struct PathStep {
  std::string name;
  bool indexed = false;
  size_t index = 0;
};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<PathStep> parsePath(const std::string& path, const std::string& source) {
  auto bad = [&](const std::string& why) {
    DISTILL_FAIL(source, ": bad field path \"", path, "\": ", why,
                 " (write section.field or section.list[index].field)");
  };
  std::vector<PathStep> steps;
  size_t pos = 0;
  while (true) {
    PathStep step;
    while (pos < path.size() && (std::isalnum(static_cast<unsigned char>(path[pos])) || path[pos] == '_')) {
      step.name += path[pos++];
    }
    if (step.name.empty()) bad("empty field name at character " + std::to_string(pos + 1));
    if (pos < path.size() && path[pos] == '[') {
      size_t close = path.find(']', pos);
      std::string digits = close == std::string::npos ? "" : path.substr(pos + 1, close - pos - 1);
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) {
        bad("an index is a number in brackets, like [0]");
      }
      step.indexed = true;
      step.index = std::stoul(digits);
      pos = close + 1;
    }
    steps.push_back(step);
    if (pos == path.size()) return steps;
    if (path[pos] != '.') bad(std::string("unexpected '") + path[pos] + "'");
    ++pos;
  }
}

// The value is YAML; text that is not valid YAML is taken as a plain string.
YAML::Node parseValue(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception&) {
    return YAML::Node(text);
  }
}

std::string kindOf(const gpb::FieldDescriptor& field) {
  if (field.is_repeated()) return "a list";
  if (field.cpp_type() == gpb::FieldDescriptor::CPPTYPE_MESSAGE) return "a section";
  return std::string("a ") + field.cpp_type_name() + " value";
}

// Makes `node` (a child slot in the tree) a map or list when it is missing or null.
void ensureKind(YAML::Node node, YAML::NodeType::value kind, const YamlWhere& where) {
  if (!node.IsDefined() || node.IsNull()) node = YAML::Node(kind);
  if (node.Type() != kind) {
    failAt(where, std::string("expected ") + (kind == YAML::NodeType::Map ? "a map" : "a list") +
                      " in the job file, got " + describeYaml(node));
  }
}

}  // namespace

void applyOverride(YAML::Node& root, const std::string& assignment) {
  const std::string source = "--set " + assignment;
  size_t eq = assignment.find('=');
  DISTILL_CHECK(eq != std::string::npos, source, ": expected PATH=VALUE, e.g. --set training.batch_size=64");
  std::vector<PathStep> steps = parsePath(trim(assignment.substr(0, eq)), source);
  YAML::Node value = parseValue(assignment.substr(eq + 1));

  YamlWhere where{source, "", -1, /*show_lines=*/false};
  // An empty file loads as a handle without a node: give it one through the reference.
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  ensureKind(root, YAML::NodeType::Map, where);
  YAML::Node cur = root;  // yaml-cpp nodes are handles: writes through `cur` land in `root`
  const gpb::Descriptor* message = JobConfig::descriptor();
  for (size_t i = 0; i < steps.size(); ++i) {
    const PathStep& step = steps[i];
    const bool last = i + 1 == steps.size();
    const gpb::FieldDescriptor* field = message->FindFieldByName(step.name);
    if (!field) failAt(where, unknownFieldMessage(*message, step.name));
    where.path = where.path.empty() ? step.name : where.path + "." + step.name;
    YAML::Node slot = cur[step.name];

    if (!step.indexed) {
      if (last) {
        if (!value.IsNull()) yamlFieldToJson(*field, value, where);  // errors name the --set, not the file
        cur[step.name] = value;
        return;
      }
      if (field->is_repeated()) failAt(where, "is a list; pick an item with " + where.path + "[0]");
      if (!field->message_type()) {
        failAt(where, "is " + kindOf(*field) + ", not a section; it has no field \"" + steps[i + 1].name + "\"");
      }
      ensureKind(slot, YAML::NodeType::Map, where);
      cur.reset(slot);
      message = field->message_type();
      continue;
    }

    if (!field->is_repeated()) failAt(where, "is " + kindOf(*field) + ", not a list; it takes no [index]");
    ensureKind(slot, YAML::NodeType::Sequence, where);
    const size_t size = slot.size();
    YamlWhere item_where = where;
    item_where.path += "[" + std::to_string(step.index) + "]";
    if (step.index > size) {
      failAt(item_where, "index out of range: the list has " + std::to_string(size) + " items (index " +
                             std::to_string(size) + " appends one)");
    }
    if (last) {
      yamlElementToJson(*field, value, item_where);
      if (step.index == size) {
        slot.push_back(value);
      } else {
        slot[step.index] = value;
      }
      return;
    }
    if (!field->message_type()) {
      failAt(item_where, "is " + std::string("a ") + field->cpp_type_name() + " value, not a section; it has no field \"" +
                             steps[i + 1].name + "\"");
    }
    if (step.index == size) slot.push_back(YAML::Node(YAML::NodeType::Map));
    YAML::Node item = slot[step.index];
    ensureKind(item, YAML::NodeType::Map, item_where);
    cur.reset(item);
    message = field->message_type();
    where = item_where;
  }
}

}  // namespace distill::config
