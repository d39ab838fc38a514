// The per-layer outputs of one forward that the intermediate terms read, and
// the sizes derived from them (docs/models.md):
//
//   kd::LayerOutputs s{out.hidden_states, out.attentions};   // from model::runModel
//   kd::ModelShape shape = kd::shapeOf(s, "student");        // layers, width, heads
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace distill::kd {

struct LayerOutputs {
  torch::Tensor hidden_states;  // [L+1,B,T,D], embeddings first; undefined if the model returns none
  torch::Tensor attentions;     // [L,B,H,T,T]; undefined if the model returns none
};

struct ModelShape {
  int64_t layers = 0;  // transformer layers L (0 when neither output is given)
  int64_t width = 0;   // D (0 without hidden_states)
  int64_t heads = 0;   // H (0 without attentions)
};

// Reads L, D, H off the tensors. Throws distill::Error naming `model` when a
// tensor has the wrong rank or the two disagree on L.
ModelShape shapeOf(const LayerOutputs& outputs, const std::string& model);

}  // namespace distill::kd
