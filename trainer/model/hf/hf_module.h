// Internal: what every imported module carries, whatever the family.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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

// `layers` blocks of one class type `type_name` in top's compilation unit (so
// their forward compiles once), each given its attributes by `attributes`.
std::vector<torch::jit::Module> makeBlocks(const torch::jit::Module& top, const std::string& type_name, int64_t layers,
                                           const std::function<void(torch::jit::Module&)>& attributes);

// A block's `training` (false) and the shape of its multi-head attention:
// d_model, num_heads, head_dim, scale (1/sqrt(head_dim)) and its norms' eps.
void addAttentionAttributes(torch::jit::Module& block, int64_t d_model, int64_t heads, double eps);

// Once the parameters are in: compiles the blocks' methods and the top's, and
// attaches the blocks to `top` as layer0 .. layer<L-1>.
void assemble(torch::jit::Module& top, std::vector<torch::jit::Module>& blocks, const std::string& block_source,
              const std::string& top_source);

// TorchScript lines of forward that call the blocks, unrolled (no ModuleList):
// `x, a = self.layer<i>.forward(x, <args>)`, collecting `attentions`, and the
// block inputs into `hidden` (the decoders, as transformers records them) or,
// with `hidden_after`, the block outputs (BERT).
std::string blockCalls(int64_t layers, const std::string& args, bool hidden_after);

// The end of forward: `out` gains the stacked hidden_states [L+1, B, T, D] and
// attentions [L, B, H, T, T] the attributes ask for, and is returned.
extern const char* const kReturnWithLayers;

}  // namespace distill::model::hf
