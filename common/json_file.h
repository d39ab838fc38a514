// Reads a JSON file whose errors name the file and the key:
//
//   const JsonFile state("ckpt/trainer.json");
//   uint64_t step = state.get<uint64_t>("step");
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace distill {

class JsonFile {
 public:
  explicit JsonFile(std::string path);  // distill::Error naming the path if unreadable or not JSON
  // An integer type takes only a JSON integer in its range (a float or a
  // negative count would convert with undefined behaviour): anything else is
  // the error naming the file and the key.
  template <typename T>
  T get(const std::string& key) const {
    try {
      const nlohmann::json& v = json_.at(key);
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        if (!fitsInteger<T>(v)) throw nlohmann::json::type_error::create(302, "not an integer in range", &v);
      } else if constexpr (std::is_floating_point_v<T>) {
        if (!v.is_number()) throw nlohmann::json::type_error::create(302, "not a number", &v);
      }
      return v.get<T>();
    } catch (const nlohmann::json::exception&) {
      DISTILL_FAIL(path_, ": key \"", key, "\" is missing or has the wrong type");
    }
  }
  template <typename T>
  static bool fitsInteger(const nlohmann::json& v) {
    if (v.is_number_unsigned()) return v.get<uint64_t>() <= uint64_t(std::numeric_limits<T>::max());
    if (!v.is_number_integer()) return false;
    const int64_t i = v.get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) return i >= 0;
    return i >= int64_t(std::numeric_limits<T>::min()) && i <= int64_t(std::numeric_limits<T>::max());
  }
  const nlohmann::json& json() const { return json_; }

 private:
  std::string path_;
  nlohmann::json json_;
};

}  // namespace distill
