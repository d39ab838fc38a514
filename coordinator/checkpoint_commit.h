// The coordinator's half of a checkpoint: it commits a step's checkpoint once
// every worker has written its part, so a crash at any moment leaves `latest`
// pointing at a complete checkpoint (docs/checkpoints.md).
//
//   CheckpointCommitter committer(run_dir, /*workers=*/2, /*keep=*/3);
//   if (committer.partWritten(step, worker)) committer.commit(step, ledger_json);
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace distill::coordinator {

class CheckpointCommitter {
 public:
  // Removes staging directories left by an earlier crash: they were never committed.
  CheckpointCommitter(std::string run_dir, int num_workers, uint32_t keep);

  // Records that `worker` wrote its part of `step`; true when every part is in.
  bool partWritten(uint64_t step, int worker);
  // Writes state.json, fsyncs, renames the staging directory, repoints `latest`,
  // then removes committed checkpoints beyond the newest `keep`. Returns the directory.
  std::string commit(uint64_t step, const nlohmann::json& state);
  std::optional<uint64_t> lastCommitted() const { return last_committed_; }
  // Steps with some parts written but not yet committed.
  bool pending() const { return !parts_.empty(); }

 private:
  void prune();

  std::string run_dir_;
  int num_workers_;
  uint32_t keep_;
  std::map<uint64_t, std::set<int>> parts_;
  std::optional<uint64_t> last_committed_;
};

}  // namespace distill::coordinator
