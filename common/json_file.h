// Reads a JSON file whose errors name the file and the key:
//
//   const JsonFile state("ckpt/trainer.json");
//   uint64_t step = state.get<uint64_t>("step");
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace distill {

class JsonFile {
 public:
  explicit JsonFile(std::string path);  // distill::Error naming the path if unreadable or not JSON
  template <typename T>
  T get(const std::string& key) const {
    try {
      return json_.at(key).get<T>();
    } catch (const nlohmann::json::exception&) {
      DISTILL_FAIL(path_, ": key \"", key, "\" is missing or has the wrong type");
    }
  }
  const nlohmann::json& json() const { return json_; }

 private:
  std::string path_;
  nlohmann::json json_;
};

}  // namespace distill
