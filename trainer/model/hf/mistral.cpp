// Mistral (MistralForCausalLM): the Llama decoder without biases, with a
// sliding attention window; a sequence longer than `sliding_window` (where
// the window would change the result) is an error, not silently full attention.
#include "trainer/model/hf/families.h"
#include "trainer/model/hf/rms_decoder.h"

namespace distill::model::hf {
namespace {

DecoderSpec mistralSpec(const HfConfig& config) {
  DecoderSpec spec = readDecoderSpec(config, "mistral");
  spec.sliding_window = config.integer("sliding_window", 0, 0, HfConfig::kMaxSize);
  return spec;
}

}  // namespace

Family mistralFamily() { return decoderFamily(mistralSpec); }

}  // namespace distill::model::hf
