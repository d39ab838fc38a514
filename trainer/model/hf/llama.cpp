// Llama (LlamaForCausalLM): RMSNorm, rotary positions (rope_theta and the
// linear / llama3 rope scalings), grouped-query attention, SwiGLU, an
// optionally tied head, and `attention_bias` / `mlp_bias`.
#include "trainer/model/hf/families.h"
#include "trainer/model/hf/rms_decoder.h"

namespace distill::model::hf {
namespace {

DecoderSpec llamaSpec(const HfConfig& config) {
  DecoderSpec spec = readDecoderSpec(config, "llama");
  spec.qkv_bias = spec.o_bias = config.boolean("attention_bias", false);
  spec.mlp_bias = config.boolean("mlp_bias", false);
  return spec;
}

}  // namespace

Family llamaFamily() { return decoderFamily(llamaSpec); }

}  // namespace distill::model::hf
