#include "common/checkpoint_layout.h"

#include <cstdio>
#include <filesystem>

#include "common/error.h"
#include "common/files.h"
#include "common/json_file.h"
#include "common/sha256.h"

namespace distill::checkpoint_layout {
namespace fs = std::filesystem;

std::string root(const std::string& run_dir) { return (fs::path(run_dir) / "checkpoints").string(); }

std::string stepName(uint64_t step) {
  char name[32];
  std::snprintf(name, sizeof(name), "step-%08llu", static_cast<unsigned long long>(step));
  return name;
}

std::string stagingDir(const std::string& run_dir, uint64_t step) {
  return (fs::path(root(run_dir)) / (stepName(step) + ".staging")).string();
}

std::string committedDir(const std::string& run_dir, uint64_t step) {
  return (fs::path(root(run_dir)) / stepName(step)).string();
}

std::string latestLink(const std::string& run_dir) { return (fs::path(root(run_dir)) / "latest").string(); }

std::optional<std::string> latest(const std::string& run_dir) {
  const fs::path link = latestLink(run_dir);
  std::error_code ec;
  if (!fs::is_symlink(link, ec)) return std::nullopt;
  const fs::path target = fs::read_symlink(link, ec);
  DISTILL_CHECK(!ec, link.string(), ": unreadable link: ", ec.message());
  const fs::path dir = target.is_absolute() ? target : link.parent_path() / target;
  DISTILL_CHECK(fs::is_directory(dir), link.string(), " points at ", dir.string(),
                ", which does not exist: the checkpoint was removed by hand?");
  return dir.string();
}

uint64_t committedStep(const std::string& dir) {
  const std::string path = (fs::path(dir) / kStateFile).string();
  DISTILL_CHECK(files::exists(path), path, ": missing: ", dir, " is not a committed checkpoint");
  return JsonFile(path).get<uint64_t>("step");
}

std::map<std::string, std::string> fileDigests(const std::string& dir) {
  std::map<std::string, std::string> digests;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name != kStateFile) digests[name] = sha256File(entry.path().string());
  }
  return digests;
}

namespace {
// <run_dir>/checkpoints/latest beside a committed step-N directory.
std::string latestLinkName(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "step-N/"
  return (p.parent_path() / "latest").string();
}
}  // namespace

void verifyFiles(const std::string& dir) {
  const std::string state_path = (fs::path(dir) / kStateFile).string();
  const JsonFile state(state_path);
  if (!state.json().contains("files")) return;
  const nlohmann::json& listed = state.json().at("files");
  DISTILL_CHECK(listed.is_object(), state_path, ": field \"files\" must map file names to sha256 digests");
  for (const auto& [name, digest] : listed.items()) {
    const std::string path = (fs::path(dir) / name).string();
    DISTILL_CHECK(files::exists(path), path, ": missing, though ", state_path,
                  " lists it: the checkpoint is incomplete; point ", latestLinkName(dir), " at an earlier step-N and resume from it");
    DISTILL_CHECK(digest.is_string() && sha256File(path) == digest.get<std::string>(), path,
                  ": its sha256 differs from the one ", state_path, " recorded at commit: the file was changed or "
                  "damaged since; restore the file, or point ", latestLinkName(dir), " at an earlier step-N and resume from it");
  }
}

std::string rngFile(int worker) { return "rng-worker-" + std::to_string(worker) + ".safetensors"; }

std::string optimizerShardFile(int worker) { return kOptimizerShardPrefix + std::to_string(worker) + ".safetensors"; }

}  // namespace distill::checkpoint_layout
