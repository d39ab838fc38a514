// toYaml: the resolved config written back as YAML, by reflection over the
// schema, so a new field shows up without touching this file.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "common/config_loader.h"
#include "common/error.h"

namespace distill::config {
namespace gpb = google::protobuf;
namespace {

// Strings that are safe unquoted: they cannot read as a number, bool, null or YAML syntax.
bool isPlainSafe(const std::string& s) {
  static const std::set<std::string> reserved = {"~",   "null", "Null", "NULL", "true", "True", "TRUE",
                                                 "false", "False", "FALSE", "yes", "Yes", "YES", "no",
                                                 "No",  "NO",   "on",   "On",   "ON",   "off",  "Off", "OFF"};
  if (s.empty() || reserved.count(s)) return false;
  char first = s[0];
  bool letter_first = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') || first == '_' ||
                      first == '/';
  if (!letter_first) return false;  // digits, '.', '-' could read as numbers or YAML syntax
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '/' ||
              c == '.' || c == '-' || c == '+';
    if (!ok) return false;
  }
  return true;
}

std::string quoteString(const std::string& s) {
  if (isPlainSafe(s)) return s;
  bool printable = true;
  for (unsigned char c : s) printable = printable && c >= 0x20 && c != 0x7f;
  if (printable) {  // single quotes need no escapes except '' for '
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Shortest text that reads back as the same value: positional for everyday magnitudes
// (0.0005, not 5e-04), exponent for tiny and huge ones (1e-08); "2.0" rather than "2".
template <typename T>
std::string formatReal(T value) {
  char buf[512];
  const T magnitude = std::fabs(value);
  const bool positional = magnitude == 0 || (magnitude >= T(1e-4) && magnitude < T(1e15));
  auto [end, ec] = positional ? std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed)
                              : std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  DISTILL_ASSERT(ec == std::errc());
  std::string out(buf, end);
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
  return out;
}

std::string scalarText(const gpb::Message& m, const gpb::FieldDescriptor& f, int index) {
  const gpb::Reflection& r = *m.GetReflection();
  using F = gpb::FieldDescriptor;
  const bool rep = f.is_repeated();
  switch (f.cpp_type()) {
    case F::CPPTYPE_STRING: return quoteString(rep ? r.GetRepeatedString(m, &f, index) : r.GetString(m, &f));
    case F::CPPTYPE_BOOL: return (rep ? r.GetRepeatedBool(m, &f, index) : r.GetBool(m, &f)) ? "true" : "false";
    case F::CPPTYPE_INT32: return std::to_string(rep ? r.GetRepeatedInt32(m, &f, index) : r.GetInt32(m, &f));
    case F::CPPTYPE_INT64: return std::to_string(rep ? r.GetRepeatedInt64(m, &f, index) : r.GetInt64(m, &f));
    case F::CPPTYPE_UINT32: return std::to_string(rep ? r.GetRepeatedUInt32(m, &f, index) : r.GetUInt32(m, &f));
    case F::CPPTYPE_UINT64: return std::to_string(rep ? r.GetRepeatedUInt64(m, &f, index) : r.GetUInt64(m, &f));
    case F::CPPTYPE_FLOAT: return formatReal(rep ? r.GetRepeatedFloat(m, &f, index) : r.GetFloat(m, &f));
    case F::CPPTYPE_DOUBLE: return formatReal(rep ? r.GetRepeatedDouble(m, &f, index) : r.GetDouble(m, &f));
    case F::CPPTYPE_ENUM: return (rep ? r.GetRepeatedEnum(m, &f, index) : r.GetEnum(m, &f))->name();
    case F::CPPTYPE_MESSAGE: break;
  }
  DISTILL_ASSERT(false, "not a scalar: ", f.full_name());
}

void writeMessage(const gpb::Message& m, const std::string& indent, std::ostringstream& out);

// A list item: "- " before the first line of the item, its other lines aligned under it.
void writeListItem(const gpb::Message& item, const std::string& indent, std::ostringstream& out) {
  std::ostringstream body;
  writeMessage(item, "", body);
  std::istringstream lines(body.str());
  std::string line;
  bool first = true;
  while (std::getline(lines, line)) {
    out << indent << (first ? "- " : "  ") << line << "\n";
    first = false;
  }
  if (first) out << indent << "- {}\n";
}

void writeMessage(const gpb::Message& m, const std::string& indent, std::ostringstream& out) {
  const gpb::Descriptor& d = *m.GetDescriptor();
  const gpb::Reflection& r = *m.GetReflection();
  for (int i = 0; i < d.field_count(); ++i) {
    const gpb::FieldDescriptor& f = *d.field(i);
    const bool is_message = f.cpp_type() == gpb::FieldDescriptor::CPPTYPE_MESSAGE;
    out << indent << f.name() << ":";
    if (f.is_repeated()) {
      const int n = r.FieldSize(m, &f);
      if (n == 0) {
        out << " []\n";
        continue;
      }
      out << "\n";
      for (int k = 0; k < n; ++k) {
        if (is_message) {
          writeListItem(r.GetRepeatedMessage(m, &f, k), indent + "  ", out);
        } else {
          out << indent << "  - " << scalarText(m, f, k) << "\n";
        }
      }
    } else if (f.has_presence() && !r.HasField(m, &f)) {
      out << " ~\n";  // unset: reads back as unset, so the default still applies
    } else if (is_message) {
      out << "\n";
      writeMessage(r.GetMessage(m, &f), indent + "  ", out);
    } else {
      out << " " << scalarText(m, f, -1) << "\n";
    }
  }
}

}  // namespace

std::string toYaml(const JobConfig& cfg) {
  std::ostringstream out;
  out << "# Job config with every field resolved (defaults included); load it like any job file.\n";
  writeMessage(cfg, "", out);
  return out.str();
}

}  // namespace distill::config
