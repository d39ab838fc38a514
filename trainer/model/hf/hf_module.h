// Internal: what every imported module carries, whatever the family.
#pragma once

#include <cstdint>
#include <string>

#include <torch/script.h>

#include "trainer/model/hf/hf_config.h"

namespace distill::model::hf {

struct ModuleShape {
  int64_t vocab_size = 0, max_len = 0, d_model = 0, num_layers = 0, num_heads = 0, d_ff = 0;
};

// The attributes the trainer and `distill inspect` read: distill_arch
// ("hf-<family>"), hf_config (the config.json it came from, for export),
// the shape, `training`, and output_hidden_states / output_attentions (which
// the trainer turns off when no loss term reads them).
void addTopAttributes(torch::jit::Module& top, const std::string& family, const HfConfig& config,
                      const ModuleShape& shape);

// A trainable parameter (requires_grad set, as a loaded TorchScript model has).
void addParameter(torch::jit::Module& m, const std::string& name, torch::Tensor t);

}  // namespace distill::model::hf
