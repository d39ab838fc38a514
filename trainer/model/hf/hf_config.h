// A Hugging Face `config.json`, read with errors that name the file and the
// field. Both layouts transformers writes are understood: rope settings as
// `rope_theta` + `rope_scaling` (releases before 5) or as `rope_parameters`
// (5 and later), the dtype as `torch_dtype` or `dtype`.
//
//   const HfConfig config(dir + "/config.json");
//   int64_t d = config.integer("hidden_size");
//   config.expect("hidden_act", {"silu"});          // anything else: an error naming the field
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

namespace distill::model::hf {

class HfConfig {
 public:
  explicit HfConfig(std::string path);  // distill::Error naming the path if unreadable or not a JSON object
  // A config held elsewhere (an imported module's hf_config); `origin` names it in errors.
  HfConfig(nlohmann::json json, std::string origin);

  const std::string& path() const { return path_; }
  bool has(const std::string& key) const;  // present and not null

  int64_t integer(const std::string& key) const;
  int64_t integer(const std::string& key, int64_t fallback) const;
  // An integer in [lo, hi] (absent: `fallback`, unchecked): sizes and counts
  // bounded before anything is allocated from them (a fuzzed head_dim of 4e13
  // once asked for 80 TB).
  int64_t integer(const std::string& key, int64_t lo, int64_t hi) const;
  int64_t integer(const std::string& key, int64_t fallback, int64_t lo, int64_t hi) const;
  static constexpr int64_t kMaxSize = int64_t{1} << 24;  // widths, vocabularies, positions
  static constexpr int64_t kMaxCount = 4096;             // layers and heads
  double number(const std::string& key) const;
  double number(const std::string& key, double fallback) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::string string(const std::string& key) const;
  std::string string(const std::string& key, const std::string& fallback) const;

  // The field must hold one of `allowed` (absent counts as `fallback` when given):
  // else an error naming the field, its value and what this importer implements.
  void expect(const std::string& key, std::initializer_list<const char*> allowed, const char* fallback = nullptr) const;
  // The field must be absent, null, false or 0: a feature the importer does not implement.
  void refuse(const std::string& key, const std::string& why) const;

  // The first entry of `architectures`, or "" when the field is absent.
  std::string architecture() const;
  // The rope settings as one object, whichever layout the file uses:
  // {"rope_type", "rope_theta", and the type's own fields}.
  nlohmann::json rope() const;

  const nlohmann::json& json() const { return json_; }

 private:
  [[noreturn]] void wrongType(const std::string& key, const char* wanted) const;
  std::string path_;
  nlohmann::json json_;
};

}  // namespace distill::model::hf
