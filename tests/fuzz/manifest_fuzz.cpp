// Fuzz target: a dataset's dataset.json, loaded as the coordinator loads it
// (one empty shard file beside it, so both the present and the missing
// shard paths are reached), then every sample located.
#include <cstddef>
#include <cstdint>
#include <fstream>

#include "common/dataset_manifest.h"
#include "common/error.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = fuzz::scratchDir();
  std::ofstream(dir + "/" + distill::data::shardFileName(0)).flush();
  fuzz::asFile(data, size, distill::data::kManifestFile);
  try {
    const auto manifest = distill::data::DatasetManifest::load(dir);
    const auto starts = manifest.shardStarts();
    for (uint64_t i = 0; i < manifest.num_samples && i < 64; ++i) (void)manifest.locate(i);
    if (manifest.num_samples > 0) (void)manifest.locate(manifest.num_samples - 1);
    (void)manifest.locate(manifest.num_samples);  // past the end: an error
    (void)starts;
  } catch (const distill::Error&) {
  }
  return 0;
}
