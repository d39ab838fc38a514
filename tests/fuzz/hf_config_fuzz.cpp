// Fuzz target: a Hugging Face config.json, read as `import-hf` reads it before
// any weight: the family chosen from `architectures` or `model_type`, then
// the tensors and the FFN neurons it implies (shapes, heads, rope) checked.
#include <cstddef>
#include <cstdint>

#include "common/error.h"
#include "tests/fuzz/fuzz_input.h"
#include "trainer/model/hf/families.h"
#include "trainer/model/hf/hf_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace hf = distill::model::hf;
  const std::string path = fuzz::asFile(data, size, "config.json");
  try {
    const hf::HfConfig config(path);
    const hf::Family& family = hf::familyOf(config);
    (void)family.tensors(config);
    (void)family.neurons(config);
  } catch (const distill::Error&) {
  }
  return 0;
}
