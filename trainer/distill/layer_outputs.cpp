#include "trainer/distill/layer_outputs.h"

#include "common/error.h"

namespace distill::kd {

ModelShape shapeOf(const LayerOutputs& outputs, const std::string& model) {
  ModelShape shape;
  if (outputs.hidden_states.defined()) {
    DISTILL_CHECK(outputs.hidden_states.dim() == 4 && outputs.hidden_states.size(0) >= 1, model,
                  ": hidden_states must be [L+1, B, T, D], got ", outputs.hidden_states.sizes());
    shape.layers = outputs.hidden_states.size(0) - 1;
    shape.width = outputs.hidden_states.size(3);
  }
  if (outputs.attentions.defined()) {
    DISTILL_CHECK(outputs.attentions.dim() == 5, model, ": attentions must be [L, B, H, T, T], got ",
                  outputs.attentions.sizes());
    DISTILL_CHECK(!outputs.hidden_states.defined() || outputs.attentions.size(0) == shape.layers, model, ": ",
                  outputs.attentions.size(0), " attention layers but ", shape.layers,
                  " hidden-state layers (hidden_states has the embeddings first, L+1 entries)");
    shape.layers = outputs.attentions.size(0);
    shape.heads = outputs.attentions.size(2);
  }
  return shape;
}

}  // namespace distill::kd
