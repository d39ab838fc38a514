// Fuzz target: a Hugging Face tokenizer.json, loaded as `prepare-data
// --tokenizer` loads it, then used on a few texts (ASCII, accents, CJK, an
// emoji, invalid UTF-8).
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "tests/fuzz/fuzz_input.h"
#include "text/hf_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::asFile(data, size, "tokenizer.json");
  try {
    const auto tokenizer = distill::text::loadHfTokenizer(path);
    for (const char* text : {"Hello world", "  naïve café\n\tx", "\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80", "a\xff\xfe b",
                             ""}) {
      for (bool special : {true, false}) (void)tokenizer->encode(text, special);
    }
    (void)tokenizer->vocabSize();
  } catch (const distill::Error&) {
  }
  return 0;
}
