#include "common/config_yaml_to_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "common/error.h"

namespace distill::config {
namespace gpb = google::protobuf;

YamlWhere YamlWhere::child(const std::string& field, const YAML::Node& key, const YAML::Node& value) const {
  YamlWhere w = *this;
  w.path = path.empty() ? field : path + "." + field;
  // A null value (`eval:`) has the mark of whatever follows it: point at the key.
  w.line = (value.IsDefined() && !value.IsNull() && value.Mark().line >= 0) ? value.Mark().line : key.Mark().line;
  return w;
}

YamlWhere YamlWhere::element(size_t index, const YAML::Node& value) const {
  YamlWhere w = *this;
  w.path = path + "[" + std::to_string(index) + "]";
  if (value.IsDefined() && value.Mark().line >= 0) w.line = value.Mark().line;
  return w;
}

void failAt(const YamlWhere& where, const std::string& message) {
  std::string line;
  if (where.show_lines && where.line >= 0) line = " (line " + std::to_string(where.line + 1) + ")";
  DISTILL_FAIL(where.source, ": ", where.path.empty() ? "top level" : where.path, ": ", message, line);
}

namespace {

// The offset of the first byte that breaks UTF-8 (overlong forms and
// surrogates included), or npos: a config value must be text.
size_t invalidUtf8At(const std::string& text) {
  const auto* b = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < text.size();) {
    const unsigned c = b[i];
    size_t extra = 0;
    unsigned low = 0x80, high = 0xBF;  // allowed range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) low = 0xA0;
      if (c == 0xED) high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) low = 0x90;
      if (c == 0xF4) high = 0x8F;
    } else {
      return i;
    }
    if (i + extra >= text.size()) return i;  // cut short
    for (size_t k = 1; k <= extra; ++k) {
      const unsigned n = b[i + k];
      if (k == 1 ? (n < low || n > high) : (n < 0x80 || n > 0xBF)) return i;
    }
    i += extra + 1;
  }
  return std::string::npos;
}

// Quoted scalars ("32", '32', |block, !!str) are strings in YAML, even when they look like numbers.
bool isQuoted(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  return tag == "!" || tag == "tag:yaml.org,2002:str";
}

std::string typeName(const gpb::FieldDescriptor& field) {
  switch (field.cpp_type()) {
    case gpb::FieldDescriptor::CPPTYPE_UINT32:
    case gpb::FieldDescriptor::CPPTYPE_UINT64: return "an unsigned integer";
    case gpb::FieldDescriptor::CPPTYPE_INT32:
    case gpb::FieldDescriptor::CPPTYPE_INT64: return "an integer";
    case gpb::FieldDescriptor::CPPTYPE_FLOAT:
    case gpb::FieldDescriptor::CPPTYPE_DOUBLE: return "a number";
    case gpb::FieldDescriptor::CPPTYPE_BOOL: return "true or false";
    case gpb::FieldDescriptor::CPPTYPE_STRING: return "a string";
    case gpb::FieldDescriptor::CPPTYPE_ENUM: return "one of the names of " + field.enum_type()->name();
    case gpb::FieldDescriptor::CPPTYPE_MESSAGE: return "a map";
  }
  return "a value";
}

std::string fieldList(const gpb::Descriptor& message) {
  std::string out;
  for (int i = 0; i < message.field_count(); ++i) out += (i ? ", " : "") + message.field(i)->name();
  return out;
}

[[noreturn]] void failType(const gpb::FieldDescriptor& field, const YAML::Node& node, const YamlWhere& where,
                           const std::string& why = "") {
  failAt(where, "expected " + typeName(field) + ", got " + describeYaml(node) + why);
}

// Integers: decimal digits with an optional sign, nothing else ("32.0" and "1e3" are not integers).
template <typename T>
T parseInteger(const gpb::FieldDescriptor& field, const YAML::Node& node, const YamlWhere& where) {
  std::string text = node.Scalar();
  if (!text.empty() && text[0] == '+') text.erase(0, 1);
  if (std::is_unsigned<T>::value && text.size() > 1 && text[0] == '-' &&
      std::all_of(text.begin() + 1, text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    failType(field, node, where, " (negative values are not allowed here)");
  }
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    failAt(where, "value " + node.Scalar() + " is out of range (" + std::to_string(std::numeric_limits<T>::min()) +
                      " to " + std::to_string(std::numeric_limits<T>::max()) + ")");
  }
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) failType(field, node, where);
  return value;
}

double parseNumber(const gpb::FieldDescriptor& field, const YAML::Node& node, const YamlWhere& where) {
  std::string text = node.Scalar();
  if (!text.empty() && text[0] == '+') text.erase(0, 1);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) failAt(where, "value " + node.Scalar() + " is out of range");
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) failType(field, node, where);
  if (!std::isfinite(value)) failType(field, node, where, " (only finite numbers are allowed)");
  if (field.cpp_type() == gpb::FieldDescriptor::CPPTYPE_FLOAT &&
      std::fabs(value) > std::numeric_limits<float>::max()) {
    failAt(where, "value " + node.Scalar() + " is out of range for a 32-bit float");
  }
  return value;
}

bool parseBool(const gpb::FieldDescriptor& field, const YAML::Node& node, const YamlWhere& where) {
  static const std::set<std::string> yes = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static const std::set<std::string> no = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
  if (yes.count(node.Scalar())) return true;
  if (no.count(node.Scalar())) return false;
  failType(field, node, where);
}

// Lower-case letters with underscores before the capitals: batchSize -> batch_size.
std::string snakeCase(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') {
      if (!out.empty()) out += '_';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string describeYaml(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  std::string text = "\"" + node.Scalar() + "\"";
  if (isQuoted(node)) text += " (a quoted string)";
  return text;
}

std::string unknownFieldMessage(const gpb::Descriptor& message, const std::string& name) {
  std::string out = "unknown field \"" + name + "\" (known: " + fieldList(message) + ")";
  if (const gpb::FieldDescriptor* f = message.FindFieldByName(snakeCase(name))) {
    return out + "; did you mean \"" + f->name() + "\"? (field names are snake_case)";
  }
  const gpb::FieldDescriptor* best = nullptr;
  size_t best_distance = std::max<size_t>(1, name.size() / 3) + 1;  // few typos per name
  for (int i = 0; i < message.field_count(); ++i) {
    size_t d = editDistance(name, message.field(i)->name());
    if (d < best_distance) best = message.field(i), best_distance = d;
  }
  if (best) out += "; did you mean \"" + best->name() + "\"?";
  return out;
}

nlohmann::json yamlMessageToJson(const gpb::Descriptor& message, const YAML::Node& node, const YamlWhere& where) {
  nlohmann::json out = nlohmann::json::object();
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsMap()) {
    failAt(where, "expected a map with the fields " + fieldList(message) + ", got " + describeYaml(node));
  }
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies (handles): `it->` returns a proxy that dies with the statement, so
    // a reference to its members dangles (AddressSanitizer found it by fuzzing).
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    YamlWhere key_where = where;
    key_where.line = key.Mark().line;
    if (!key.IsScalar()) failAt(key_where, "a field name must be a plain word, got " + describeYaml(key));
    const std::string& name = key.Scalar();
    const gpb::FieldDescriptor* field = message.FindFieldByName(name);
    if (!field) failAt(key_where, unknownFieldMessage(message, name));
    if (!seen.insert(name).second) failAt(key_where, "field \"" + name + "\" is given twice");
    // A field without a value (`eval:` or `eval: ~`) stays unset: its default applies.
    if (value.IsNull()) continue;
    out[name] = yamlFieldToJson(*field, value, where.child(name, key, value));
  }
  return out;
}

nlohmann::json yamlFieldToJson(const gpb::FieldDescriptor& field, const YAML::Node& node, const YamlWhere& where) {
  DISTILL_ASSERT(!field.is_map(), "map fields are not supported in job configs: ", field.full_name());
  if (!field.is_repeated()) return yamlElementToJson(field, node, where);
  nlohmann::json out = nlohmann::json::array();
  if (node.IsNull()) return out;
  if (!node.IsSequence()) {
    std::string hint = node.IsScalar() ? " (write [" + node.Scalar() + "] for a list of one)" : "";
    failAt(where, "expected a list, got " + describeYaml(node) + hint);
  }
  for (size_t i = 0; i < node.size(); ++i) out.push_back(yamlElementToJson(field, node[i], where.element(i, node[i])));
  return out;
}

nlohmann::json yamlElementToJson(const gpb::FieldDescriptor& field, const YAML::Node& node, const YamlWhere& where) {
  using F = gpb::FieldDescriptor;
  if (field.cpp_type() == F::CPPTYPE_MESSAGE) return yamlMessageToJson(*field.message_type(), node, where);
  if (!node.IsScalar()) failType(field, node, where);
  // Numbers and booleans must be plain YAML scalars: `batch_size: "32"` is a string.
  bool quoted = isQuoted(node);
  if (quoted && field.cpp_type() != F::CPPTYPE_STRING && field.cpp_type() != F::CPPTYPE_ENUM) {
    failType(field, node, where);
  }
  switch (field.cpp_type()) {
    case F::CPPTYPE_STRING: {
      const size_t bad = invalidUtf8At(node.Scalar());
      if (bad != std::string::npos) failAt(where, "not valid UTF-8 (byte " + std::to_string(bad) + " of the value)");
      return node.Scalar();
    }
    case F::CPPTYPE_BOOL: return parseBool(field, node, where);
    case F::CPPTYPE_INT32: return parseInteger<int32_t>(field, node, where);
    case F::CPPTYPE_INT64: return parseInteger<int64_t>(field, node, where);
    case F::CPPTYPE_UINT32: return parseInteger<uint32_t>(field, node, where);
    case F::CPPTYPE_UINT64: return parseInteger<uint64_t>(field, node, where);
    case F::CPPTYPE_FLOAT:
    case F::CPPTYPE_DOUBLE: return parseNumber(field, node, where);
    case F::CPPTYPE_ENUM: {
      const gpb::EnumDescriptor& e = *field.enum_type();
      if (e.FindValueByName(node.Scalar())) return node.Scalar();
      std::string names;
      for (int i = 0; i < e.value_count(); ++i) names += (i ? ", " : "") + e.value(i)->name();
      failAt(where, "expected one of " + names + ", got " + describeYaml(node));
    }
    case F::CPPTYPE_MESSAGE: break;
  }
  DISTILL_ASSERT(false, "unhandled field type of ", field.full_name());
}

}  // namespace distill::config
