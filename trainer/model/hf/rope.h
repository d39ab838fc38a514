// Rotary position embeddings as the Llama family configures them: the
// inverse frequencies theta^(-2i/d) for i < d/2, rescaled by `rope_scaling`
// (or `rope_parameters`) of type "default", "linear" (positions divided by
// `factor`) or "llama3" (Llama 3.1: low frequencies divided by `factor`,
// high ones kept, a smooth blend between `low_freq_factor` and
// `high_freq_factor` of `original_max_position_embeddings`). Any other type
// (dynamic, yarn, longrope, ...) is an error naming the field.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "trainer/model/hf/hf_config.h"

namespace distill::model::hf {

struct Rope {
  at::Tensor inv_freq;             // fp32 [head_dim / 2]
  double attention_scaling = 1.0;  // cos and sin are multiplied by it (1 for the types above)
};

Rope ropeFromConfig(const HfConfig& config, int64_t head_dim);

}  // namespace distill::model::hf
