#include "common/teacher_cache_layout.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/json_strict.h"
#include "common/sha256.h"

namespace distill::teacher_cache {
namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string Key::digest() const {
  const std::string text = teacher_sha256 + "|" + dataset_sha256 + "|" + std::to_string(top_k);
  return sha256Hex(text.data(), text.size()).substr(0, 16);
}

Key keyFor(const std::string& teacher, const std::string& teacher_path, const std::string& dataset_dir, int64_t top_k) {
  Key key;
  key.teacher = teacher;
  key.teacher_sha256 = sha256File(teacher_path);
  key.dataset_sha256 = sha256File((fs::path(dataset_dir) / data::kManifestFile).string());
  key.top_k = top_k;
  return key;
}

std::string cacheRoot(const std::string& configured_dir, const std::string& train_dir) {
  return configured_dir.empty() ? (fs::path(train_dir) / "teacher-cache").string() : configured_dir;
}

std::string cacheDir(const std::string& root, const Key& key) {
  return (fs::path(root) / (key.teacher + "-" + key.digest())).string();
}

std::string shardFile(size_t index) { return data::shardFileName(index); }

namespace {

Json readManifest(const std::string& dir) {
  const std::string path = (fs::path(dir) / kManifestFile).string();
  std::ifstream in(path);
  DISTILL_CHECK(in.good(), path, ": cannot read the teacher cache manifest");
  try {
    Json j = Json::parse(in);
    DISTILL_CHECK(j.value("format", "") == kFormat, path, ": not a teacher cache (format \"", j.value("format", ""),
                  "\", expected \"", kFormat, "\")");
    return j;
  } catch (const Json::exception& e) {
    DISTILL_FAIL(path, ": not valid JSON: ", e.what());
  }
}

}  // namespace

bool complete(const std::string& dir, const Key& key) {
  const std::string path = (fs::path(dir) / kManifestFile).string();
  if (!fs::exists(path)) return false;
  const Json j = readManifest(dir);
  const auto field = [&](const char* name) { return j.contains(name) ? j.at(name).dump() : std::string("none"); };
  DISTILL_CHECK(j.value("teacher_sha256", "") == key.teacher_sha256 && j.value("dataset_sha256", "") == key.dataset_sha256 &&
                    j.value("top_k", int64_t{0}) == key.top_k,
                path, ": a stale teacher cache: written for teacher sha256 ", field("teacher_sha256"), ", dataset sha256 ",
                field("dataset_sha256"), ", k ", field("top_k"), "; this job has ", key.teacher_sha256, ", ",
                key.dataset_sha256, ", k ", key.top_k, " (remove the directory)");
  return true;
}

std::vector<size_t> missingShards(const std::string& dir, const data::DatasetManifest& manifest) {
  std::vector<size_t> missing;
  for (size_t i = 0; i < manifest.shards.size(); ++i) {
    if (!fs::exists(fs::path(dir) / shardFile(i))) missing.push_back(i);
  }
  return missing;
}

void writeManifest(const std::string& dir, const Key& key, const data::DatasetManifest& manifest, int64_t vocab) {
  Json shards = Json::array();
  for (size_t i = 0; i < manifest.shards.size(); ++i) {
    const std::string file = shardFile(i);
    DISTILL_CHECK(fs::exists(fs::path(dir) / file), dir, ": ", file, " is missing; the teacher pass is not complete");
    shards.push_back({{"file", file}, {"num_samples", manifest.shards[i].num_samples}});
  }
  const Json j = {{"format", kFormat},
                  {"teacher", key.teacher},
                  {"teacher_sha256", key.teacher_sha256},
                  {"dataset_sha256", key.dataset_sha256},
                  {"top_k", key.top_k},
                  {"vocab", vocab},
                  {"task", manifest.task},
                  {"seq_len", manifest.seq_len},
                  {"shards", shards}};
  files::writeFileAtomic((fs::path(dir) / kManifestFile).string(), j.dump(2) + "\n");
}

int64_t cachedVocab(const std::string& dir) {
  return static_cast<int64_t>(unsignedOf(readManifest(dir).at("vocab"), dir + ": vocab"));
}

std::vector<std::string> otherCaches(const std::string& root, const Key& key) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  const std::string prefix = key.teacher + "-";
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || name == prefix + key.digest()) continue;
    std::string what = entry.path().string();
    if (fs::exists(entry.path() / kManifestFile)) {
      try {
        const Json j = readManifest(entry.path().string());
        what += " (k " + std::to_string(j.value("top_k", int64_t{0})) + ", teacher sha256 " +
                j.value("teacher_sha256", std::string("?")).substr(0, 12) + "..., dataset sha256 " +
                j.value("dataset_sha256", std::string("?")).substr(0, 12) + "...)";
      } catch (const Error&) {
        what += " (unreadable cache.json)";
      }
    } else {
      what += " (partial: no cache.json)";
    }
    out.push_back(what);
  }
  return out;
}

}  // namespace distill::teacher_cache
