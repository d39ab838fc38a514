// routedDecoder: an imported Llama-family decoder rebuilt with routed
// experts (rms_decoder.h). The new module copies the old one's state slot by
// slot, so whatever the import recorded (hf_config, rope frequencies, the
// sliding window) carries over, and compiles the routed block text.
#include <memory>

#include "common/error.h"
#include "trainer/model/hf/hf_module.h"
#include "trainer/model/hf/rms_decoder.h"
#include "trainer/model/routed_ffn.h"

namespace distill::model::hf {
namespace {

// Every attribute, parameter and buffer of `from` that is not a submodule,
// registered on `to` with the same name and type (tensors cloned).
void copyState(const torch::jit::Module& from, torch::jit::Module& to) {
  const c10::ClassTypePtr type = from.type();
  for (size_t i = 0; i < type->numAttributes(); ++i) {
    const std::string& name = type->getAttributeName(i);
    const c10::TypePtr& slot_type = type->getAttribute(i);
    if (const auto cls = slot_type->cast<c10::ClassType>(); cls && cls->is_module()) continue;
    const c10::IValue value = from._ivalue()->getSlot(i);
    if (type->is_parameter(i)) {
      torch::Tensor copy = value.toTensor().detach().clone();
      copy.set_requires_grad(value.toTensor().requires_grad());
      to.register_parameter(name, copy, /*is_buffer=*/false);
    } else if (type->is_buffer(i)) {
      to.register_buffer(name, value.toTensor().detach().clone());
    } else {
      to.register_attribute(name, slot_type, value.deepcopy());
    }
  }
}

}  // namespace

bool isDecoderArch(const std::string& distill_arch) {
  return distill_arch == "hf-llama" || distill_arch == "hf-qwen2" || distill_arch == "hf-mistral";
}

torch::jit::Module routedDecoder(const torch::jit::Module& dense, const std::string& path, int64_t experts,
                                 int64_t top_k) {
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  torch::jit::Module top("__torch__.distill.hf.RoutedDecoder", cu, /*shouldMangle=*/true);
  try {
    copyState(dense, top);
    top.register_attribute("ffn_experts", c10::IntType::get(), experts);
    top.register_attribute("ffn_top_k", c10::IntType::get(), top_k);
    const int64_t layers = dense.attr("num_layers").toInt();
    int64_t next = 0;
    std::vector<torch::jit::Module> blocks =
        makeBlocks(top, "__torch__.distill.hf.RoutedDecoderBlock", layers, [&](torch::jit::Module& block) {
          const torch::jit::Module from = dense.attr("layer" + std::to_string(next++)).toModule();
          copyState(from, block);
          const torch::Tensor gate = from.attr("gate_weight").toTensor();
          addRouterState(block, experts, top_k, gate.size(0) / experts, gate.size(1));
        });
    const torch::jit::Module first = dense.attr("layer0").toModule();
    assemble(top, blocks,
             decoderBlockSource(first.hasattr("q_bias"), first.hasattr("o_bias"), first.hasattr("gate_bias"),
                                /*routed=*/true),
             decoderTopSource(layers, /*tied_head=*/!dense.hasattr("lm_head_weight")));
  } catch (const c10::Error& e) {
    DISTILL_FAIL(path, ": the routed decoder cannot be built over this model's attributes (was it imported by an "
                 "older version? import it again with distill import-hf): ", e.what_without_backtrace());
  }
  return top;
}

}  // namespace distill::model::hf
