#include "trainer/model/hf/tensor_map.h"

#include "common/error.h"
#include "trainer/model/hf/hf_module.h"

namespace distill::model::hf {

void takeAll(const std::vector<TensorMapping>& map, HfWeights& weights, torch::jit::Module& top,
             std::vector<torch::jit::Module>& blocks) {
  for (const TensorMapping& m : map) {
    torch::Tensor t = weights.take(m.theirs, m.shape);
    if (m.transposed) t = t.t().contiguous();
    const auto dot = m.ours.find('.');
    if (dot == std::string::npos) {
      addParameter(top, m.ours, t);
      continue;
    }
    const size_t layer = std::stoul(m.ours.substr(5, dot - 5));  // "layer<i>."
    DISTILL_ASSERT(m.ours.rfind("layer", 0) == 0 && layer < blocks.size());
    addParameter(blocks[layer], m.ours.substr(dot + 1), t);
  }
}

}  // namespace distill::model::hf
