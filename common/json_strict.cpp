#include "common/json_strict.h"

#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "common/error.h"

namespace distill {

nlohmann::json parseJsonStrict(const char* begin, const char* end, const std::string& where) {
  using json = nlohmann::json;
  std::vector<std::set<std::string>> keys_of_open_objects;
  std::string duplicate;
  const json::parser_callback_t on_event = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        keys_of_open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys_of_open_objects.empty()) keys_of_open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (duplicate.empty() && !keys_of_open_objects.empty() &&
            !keys_of_open_objects.back().insert(parsed.get<std::string>()).second) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  json parsed;
  try {
    parsed = json::parse(begin, end, on_event);
  } catch (const json::exception& e) {
    DISTILL_FAIL(where, ": not valid JSON: ", e.what());
  }
  DISTILL_CHECK(duplicate.empty(), where, ": key \"", duplicate, "\" is given twice in one object");
  return parsed;
}

nlohmann::json parseJsonStrict(const std::string& text, const std::string& where) {
  return parseJsonStrict(text.data(), text.data() + text.size(), where);
}

uint64_t unsignedOf(const nlohmann::json& v, const std::string& where) {
  DISTILL_CHECK(v.is_number_unsigned(), where, ": expected a non-negative integer, got ", v.dump());
  return v.get<uint64_t>();
}

std::vector<uint64_t> unsignedListOf(const nlohmann::json& v, const std::string& where) {
  DISTILL_CHECK(v.is_array(), where, ": expected a list of non-negative integers, got ", v.dump().substr(0, 80));
  std::vector<uint64_t> out;
  out.reserve(v.size());
  for (const auto& x : v) out.push_back(unsignedOf(x, where));
  return out;
}

std::vector<float> floatListOf(const nlohmann::json& v, const std::string& where) {
  DISTILL_CHECK(v.is_array(), where, ": expected a list of numbers, got ", v.dump().substr(0, 80));
  std::vector<float> out;
  out.reserve(v.size());
  for (const auto& x : v) {
    DISTILL_CHECK(x.is_number() && std::fabs(x.get<double>()) <= std::numeric_limits<float>::max(), where,
                  ": expected a number within float's range, got ", x.dump());
    out.push_back(static_cast<float>(x.get<double>()));
  }
  return out;
}

}  // namespace distill
