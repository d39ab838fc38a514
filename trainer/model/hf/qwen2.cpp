// Qwen2 (Qwen2ForCausalLM): the Llama decoder with biases on the q, k and v
// projections (none on o). Its sliding window, when `use_sliding_window` is
// on, is not implemented: a longer sequence is an error.
#include "trainer/model/hf/families.h"
#include "trainer/model/hf/rms_decoder.h"

namespace distill::model::hf {
namespace {

DecoderSpec qwen2Spec(const HfConfig& config) {
  DecoderSpec spec = readDecoderSpec(config, "qwen2");
  spec.qkv_bias = true;
  if (config.boolean("use_sliding_window", false)) spec.sliding_window = config.integer("sliding_window", 0, HfConfig::kMaxSize);
  return spec;
}

}  // namespace

Family qwen2Family() { return decoderFamily(qwen2Spec); }

}  // namespace distill::model::hf
