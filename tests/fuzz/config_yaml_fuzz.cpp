// Fuzz target: a YAML job config, as `distill validate` and every rank read it:
// parsed, defaults applied, every check run (the files it names do not exist:
// those checks answer with a message, not an exception).
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/config_checks.h"
#include "common/config_loader.h"
#include "common/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto cfg = distill::config::parseJobConfig(text, "fuzz.yaml");
    distill::config::checkJobConfig(cfg);
    (void)distill::config::toYaml(cfg);
  } catch (const distill::Error&) {
  }
  return 0;
}
