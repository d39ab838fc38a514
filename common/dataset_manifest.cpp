#include "common/dataset_manifest.h"

#include "common/sha256.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/atomic_write.h"
#include "common/error.h"
#include "common/files.h"
#include "common/json_strict.h"

namespace distill::data {
namespace {

using nlohmann::json;

const json& field(const json& j, const std::string& name, const std::string& where) {
  auto it = j.find(name);
  DISTILL_CHECK(it != j.end(), where, ": missing field '", name, "'");
  return *it;
}

std::string stringField(const json& j, const std::string& name, const std::string& where) {
  const json& v = field(j, name, where);
  DISTILL_CHECK(v.is_string(), where, ": field '", name, "' must be a string");
  return v.get<std::string>();
}

uint64_t countField(const json& j, const std::string& name, const std::string& where) {
  const json& v = field(j, name, where);
  DISTILL_CHECK(v.is_number_unsigned(), where, ": field '", name,
                "' must be a non-negative integer, got ", v.dump());
  return v.get<uint64_t>();
}

bool isSha256Hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::string shardFileName(size_t index) {
  char name[64];
  std::snprintf(name, sizeof(name), "shard-%05zu.safetensors", index);
  return name;
}

void DatasetManifest::validate(const std::string& where) const {
  DISTILL_CHECK(task == kTaskClassification || task == kTaskLanguageModeling, where,
                ": field 'task' must be \"", kTaskClassification, "\" or \"",
                kTaskLanguageModeling, "\", got \"", task, "\"");
  if (isClassification())
    DISTILL_CHECK(num_classes >= 2, where, ": field 'num_classes' must be at least 2, got ",
                  num_classes);
  DISTILL_CHECK(vocab_size > 0, where, ": field 'vocab_size' must be positive, got ", vocab_size);
  DISTILL_CHECK(seq_len > 0, where, ": field 'seq_len' must be positive, got ", seq_len);
  DISTILL_CHECK(!shards.empty(), where, ": field 'shards' lists no shard");
  uint64_t total = 0;
  std::set<std::string> files;
  for (size_t i = 0; i < shards.size(); ++i) {
    const ShardInfo& s = shards[i];
    const std::string f = "shards[" + std::to_string(i) + "]";
    DISTILL_CHECK(!s.file.empty() && s.file.find('/') == std::string::npos && s.file != ".." &&
                      s.file != ".",
                  where, ": field '", f, ".file' must be a plain file name, got \"", s.file, "\"");
    DISTILL_CHECK(files.insert(s.file).second, where, ": field '", f, ".file' repeats \"",
                  s.file, "\"");
    DISTILL_CHECK(s.num_samples > 0, where, ": field '", f, ".num_samples' must be positive");
    DISTILL_CHECK(isSha256Hex(s.sha256), where, ": field '", f,
                  ".sha256' must be 64 lowercase hex characters, got \"", s.sha256, "\"");
    total += s.num_samples;
  }
  DISTILL_CHECK(total == num_samples, where, ": field 'num_samples' is ", num_samples,
                " but the shards hold ", total, " samples in all");
}

DatasetManifest DatasetManifest::load(const std::string& dir) {
  const std::string path = dir + "/" + kManifestFile;
  std::ifstream in(path);
  DISTILL_CHECK(in.good(), path, ": cannot open (is '", dir,
                "' a dataset directory made by `distill prepare-data`?)");
  std::stringstream text;
  text << in.rdbuf();
  const json j = parseJsonStrict(text.str(), path);
  DISTILL_CHECK(j.is_object(), path, ": must hold a JSON object");

  const std::string format = stringField(j, "format", path);
  DISTILL_CHECK(format == kDatasetFormat, path, ": field 'format' is \"", format,
                "\", this version reads \"", kDatasetFormat, "\"");
  DatasetManifest m;
  m.dir = dir;
  m.task = stringField(j, "task", path);
  if (m.task == kTaskClassification) m.num_classes = int64_t(countField(j, "num_classes", path));
  m.vocab_size = int64_t(countField(j, "vocab_size", path));
  m.seq_len = int64_t(countField(j, "seq_len", path));
  m.num_samples = countField(j, "num_samples", path);
  const json& shards = field(j, "shards", path);
  DISTILL_CHECK(shards.is_array(), path, ": field 'shards' must be an array");
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string where = path + ": shards[" + std::to_string(i) + "]";
    DISTILL_CHECK(shards[i].is_object(), where, " must be an object");
    m.shards.push_back({stringField(shards[i], "file", where),
                        countField(shards[i], "num_samples", where),
                        stringField(shards[i], "sha256", where)});
  }
  m.validate(path);
  for (size_t i = 0; i < m.shards.size(); ++i) {
    const std::string kind = files::notRegularFile(m.shardPath(i));
    DISTILL_CHECK(kind.empty(), path, ": field 'shards[", i, "].file' names ", m.shardPath(i), ", which ",
                  kind == "missing" ? std::string("does not exist") : "is " + kind + ", not a shard file");
  }
  return m;
}

void DatasetManifest::save() const {
  const std::string path = dir + "/" + kManifestFile;
  validate(path);
  nlohmann::ordered_json j;
  j["format"] = kDatasetFormat;
  j["task"] = task;
  if (isClassification()) j["num_classes"] = num_classes;
  j["vocab_size"] = vocab_size;
  j["seq_len"] = seq_len;
  j["num_samples"] = num_samples;
  j["shards"] = nlohmann::ordered_json::array();
  for (const ShardInfo& s : shards)
    j["shards"].push_back({{"file", s.file}, {"num_samples", s.num_samples}, {"sha256", s.sha256}});
  std::string text = j.dump(2) + "\n";
  writeFileAtomically(path, text.data(), text.size());
}

std::string DatasetManifest::shardPath(size_t index) const {
  DISTILL_ASSERT(index < shards.size(), "shard ", index, " of ", shards.size());
  return dir + "/" + shards[index].file;
}

std::pair<size_t, uint64_t> DatasetManifest::locate(uint64_t index) const {
  DISTILL_CHECK(index < num_samples, dir, ": sample index ", index, " is out of range (",
                num_samples, " samples)");
  // A linear scan: datasets have tens to thousands of shards, and hot paths
  // (ShardedDataset::gather) keep their own prefix sums.
  for (size_t i = 0; i < shards.size(); ++i) {
    if (index < shards[i].num_samples) return {i, index};
    index -= shards[i].num_samples;
  }
  DISTILL_FAIL(dir, ": sample index beyond the shards: dataset.json is inconsistent");
}

std::vector<uint64_t> DatasetManifest::shardStarts() const {
  std::vector<uint64_t> starts{0};
  for (const ShardInfo& s : shards) starts.push_back(starts.back() + s.num_samples);
  return starts;
}

void verifyShardChecksums(const DatasetManifest& manifest) {
  for (size_t i = 0; i < manifest.shards.size(); ++i) {
    const std::string path = manifest.shardPath(i);
    const std::string actual = sha256File(path);
    DISTILL_CHECK(actual == manifest.shards[i].sha256, path, ": sha256 mismatch (manifest ",
                  manifest.shards[i].sha256, ", file ", actual,
                  "): the shard is corrupt or was changed after prepare-data");
  }
}

}  // namespace distill::data
