// Fuzz target: a checkpoint's state.json, read as `--resume` reads it: the
// committed step, the file digests (against the empty files beside it), and
// the data ledger for a run of 2 workers on two shards.
#include <cstddef>
#include <cstdint>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/checkpoint_layout.h"
#include "common/error.h"
#include "coordinator/data_ledger.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace layout = distill::checkpoint_layout;
  const std::string dir = fuzz::scratchDir();
  std::ofstream(dir + "/" + layout::kModelFile).flush();
  const std::string state = fuzz::asFile(data, size, layout::kStateFile);
  try {
    (void)layout::committedStep(dir);
    layout::verifyFiles(dir);
  } catch (const distill::Error&) {
  }
  try {
    distill::coordinator::DataShape shape;
    shape.shard_sizes = {100, 28};
    shape.seed = 7;
    shape.batch_size = 8;
    shape.num_workers = 2;
    shape.dataset_digest = "0000000000000000000000000000000000000000000000000000000000000000";
    auto ledger = distill::coordinator::DataLedger::resume(state, shape);
    (void)ledger.totalSteps(0, 2);
    (void)ledger.record(ledger.segments().back().start.step + 1);
  } catch (const distill::Error&) {
  }
  return 0;
}
