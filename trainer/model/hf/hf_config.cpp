#include "trainer/model/hf/hf_config.h"

#include <fstream>
#include <sstream>

#include "common/error.h"

namespace distill::model::hf {

HfConfig::HfConfig(std::string path) : path_(std::move(path)) {
  std::ifstream in(path_);
  DISTILL_CHECK(in.good(), path_, ": cannot read (a Hugging Face model directory has a config.json)");
  try {
    json_ = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    DISTILL_FAIL(path_, ": not valid JSON: ", e.what());
  }
  DISTILL_CHECK(json_.is_object(), path_, ": must hold a JSON object");
}

HfConfig::HfConfig(nlohmann::json json, std::string origin) : path_(std::move(origin)), json_(std::move(json)) {
  DISTILL_CHECK(json_.is_object(), path_, ": must hold a JSON object");
}

bool HfConfig::has(const std::string& key) const { return json_.contains(key) && !json_.at(key).is_null(); }

void HfConfig::wrongType(const std::string& key, const char* wanted) const {
  if (!has(key)) DISTILL_FAIL(path_, ": field \"", key, "\" is missing (", wanted, " expected)");
  DISTILL_FAIL(path_, ": field \"", key, "\" must be ", wanted, ", got ", json_.at(key).dump());
}

int64_t HfConfig::integer(const std::string& key) const {
  if (!has(key) || !json_.at(key).is_number_integer()) wrongType(key, "an integer");
  return json_.at(key).get<int64_t>();
}

int64_t HfConfig::integer(const std::string& key, int64_t fallback) const {
  return has(key) ? integer(key) : fallback;
}

int64_t HfConfig::integer(const std::string& key, int64_t lo, int64_t hi) const {
  const int64_t v = integer(key);
  DISTILL_CHECK(v >= lo && v <= hi, path_, ": field \"", key, "\" must be an integer in [", lo, ", ", hi, "], got ", v);
  return v;
}

int64_t HfConfig::integer(const std::string& key, int64_t fallback, int64_t lo, int64_t hi) const {
  return has(key) ? integer(key, lo, hi) : fallback;
}

double HfConfig::number(const std::string& key) const {
  if (!has(key) || !json_.at(key).is_number()) wrongType(key, "a number");
  return json_.at(key).get<double>();
}

double HfConfig::number(const std::string& key, double fallback) const { return has(key) ? number(key) : fallback; }

bool HfConfig::boolean(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  if (!json_.at(key).is_boolean()) wrongType(key, "true or false");
  return json_.at(key).get<bool>();
}

std::string HfConfig::string(const std::string& key) const {
  if (!has(key) || !json_.at(key).is_string()) wrongType(key, "a string");
  return json_.at(key).get<std::string>();
}

std::string HfConfig::string(const std::string& key, const std::string& fallback) const {
  return has(key) ? string(key) : fallback;
}

void HfConfig::expect(const std::string& key, std::initializer_list<const char*> allowed, const char* fallback) const {
  const std::string value = fallback ? string(key, fallback) : string(key);
  std::ostringstream list;
  for (const char* a : allowed) {
    if (value == a) return;
    list << (list.tellp() > 0 ? ", " : "") << a;
  }
  DISTILL_FAIL(path_, ": field \"", key, "\" is \"", value, "\"; this importer implements ", list.str());
}

void HfConfig::refuse(const std::string& key, const std::string& why) const {
  if (!has(key)) return;
  const auto& v = json_.at(key);
  if ((v.is_boolean() && !v.get<bool>()) || (v.is_number() && v.get<double>() == 0.0)) return;
  DISTILL_FAIL(path_, ": field \"", key, "\" is ", v.dump(), ": ", why);
}

std::string HfConfig::architecture() const {
  if (!has("architectures")) return "";
  const auto& a = json_.at("architectures");
  DISTILL_CHECK(a.is_array() && !a.empty() && a.at(0).is_string(), path_,
                ": field \"architectures\" must be a list of class names, got ", a.dump());
  return a.at(0).get<std::string>();
}

nlohmann::json HfConfig::rope() const {
  nlohmann::json rope = nlohmann::json::object();
  if (has("rope_parameters")) {
    const auto& p = json_.at("rope_parameters");
    DISTILL_CHECK(p.is_object(), path_, ": field \"rope_parameters\" must be an object, got ", p.dump());
    rope = p;
  } else if (has("rope_scaling")) {
    const auto& s = json_.at("rope_scaling");
    DISTILL_CHECK(s.is_object(), path_, ": field \"rope_scaling\" must be an object or null, got ", s.dump());
    rope = s;
    if (!rope.contains("rope_type") && rope.contains("type")) rope["rope_type"] = rope["type"];  // older spelling
  }
  if (!rope.contains("rope_type")) rope["rope_type"] = "default";
  if (!rope.contains("rope_theta")) rope["rope_theta"] = number("rope_theta", 10000.0);
  return rope;
}

}  // namespace distill::model::hf
