// Fuzz target: a safetensors file (a dataset shard, a checkpoint, a teacher
// cache, model weights): opened and validated, then every tensor read whole.
#include <cstddef>
#include <cstdint>

#include "common/error.h"
#include "common/safetensors.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::asFile(data, size, "shard.safetensors");
  try {
    const auto file = distill::safetensors::File::open(path);
    uint64_t sum = 0;
    for (const auto& name : file.names()) {
      const auto view = file.get(name);
      for (size_t i = 0; i < view.nbytes; ++i) sum += view.data[i];
      (void)file.fileOffset(name);
    }
    (void)sum;
  } catch (const distill::Error&) {
  }
  return 0;
}
