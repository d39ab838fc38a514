// Qwen2 (Qwen2ForCausalLM): the Llama decoder with biases on the q, k and v
// projections (none on o). Its sliding window, when `use_sliding_window` is
// on, is not implemented: a longer sequence is an error.
#include "trainer/model/hf/families.h"
#include "trainer/model/hf/rms_decoder.h"

namespace distill::model::hf {

torch::jit::Module importQwen2(const HfConfig& config, HfWeights& weights) {
  DecoderSpec spec = readDecoderSpec(config, "qwen2");
  spec.qkv_bias = true;
  if (config.boolean("use_sliding_window", false)) spec.sliding_window = config.integer("sliding_window");
  return buildDecoder(spec, weights, config);
}

}  // namespace distill::model::hf
