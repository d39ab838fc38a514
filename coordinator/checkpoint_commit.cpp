#include "coordinator/checkpoint_commit.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/checkpoint_layout.h"
#include "common/error.h"
#include "common/files.h"
#include "common/log.h"

namespace distill::coordinator {
namespace fs = std::filesystem;
namespace layout = checkpoint_layout;

CheckpointCommitter::CheckpointCommitter(std::string run_dir, int num_workers, uint32_t keep)
    : run_dir_(std::move(run_dir)), num_workers_(num_workers), keep_(std::max<uint32_t>(keep, 1)) {
  const fs::path root = layout::root(run_dir_);
  files::makeDirs(root.string());
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.path().extension() == ".staging") {
      log::warn("removing ", entry.path().string(), ": a checkpoint that was never committed");
      fs::remove_all(entry.path());
    }
  }
}

bool CheckpointCommitter::partWritten(uint64_t step, int worker) {
  auto& workers = parts_[step];
  workers.insert(worker);
  return static_cast<int>(workers.size()) == num_workers_;
}

std::string CheckpointCommitter::commit(uint64_t step, const nlohmann::json& state) {
  const std::string staging = layout::stagingDir(run_dir_, step);
  const std::string committed = layout::committedDir(run_dir_, step);
  DISTILL_CHECK(fs::is_directory(staging), staging, ": workers reported the checkpoint written but it is missing");
  nlohmann::json with_digests = state;
  with_digests["files"] = layout::fileDigests(staging);  // resume and export verify them
  files::writeFileAtomic((fs::path(staging) / layout::kStateFile).string(), with_digests.dump(2) + "\n");
  files::fsyncPath(staging);
  std::error_code ec;
  fs::remove_all(committed, ec);  // a re-run of the same step after a resume replaces it
  fs::rename(staging, committed, ec);
  DISTILL_CHECK(!ec, "rename ", staging, " -> ", committed, ": ", ec.message());
  files::fsyncPath(layout::root(run_dir_));
  files::replaceSymlink(layout::stepName(step), layout::latestLink(run_dir_));
  parts_.erase(step);
  last_committed_ = step;
  prune();
  return committed;
}

void CheckpointCommitter::prune() {
  std::vector<fs::path> committed;
  for (const auto& entry : fs::directory_iterator(layout::root(run_dir_))) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && !entry.is_symlink() && name.rfind("step-", 0) == 0 &&
        entry.path().extension() != ".staging") {
      committed.push_back(entry.path());
    }
  }
  std::sort(committed.begin(), committed.end());  // zero-padded names sort by step
  for (size_t i = 0; i + keep_ < committed.size(); ++i) fs::remove_all(committed[i]);
}

}  // namespace distill::coordinator
