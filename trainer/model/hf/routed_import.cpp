#include "trainer/model/hf/routed_import.h"

#include <memory>

#include <torch/csrc/jit/frontend/error_report.h>

#include "common/error.h"
#include "trainer/model/hf/families.h"
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

// What differs between the families: the class names, the tensor with one
// row per neuron, and the block and top TorchScript.
struct RoutedSources {
  std::string name;    // "Decoder", "Gpt2", "Bert"
  std::string neuron;  // a block's [neurons, d_model] weight
  std::string block, top;
};

RoutedSources routedSources(const torch::jit::Module& dense, const std::string& arch) {
  const int64_t layers = dense.attr("num_layers").toInt();
  if (isDecoderArch(arch)) {
    const torch::jit::Module first = dense.attr("layer0").toModule();
    return {"Decoder", "gate_weight",
            decoderBlockSource(first.hasattr("q_bias"), first.hasattr("o_bias"), first.hasattr("gate_bias"),
                               /*routed=*/true),
            decoderTopSource(layers, /*tied_head=*/!dense.hasattr("lm_head_weight"))};
  }
  if (arch == "hf-gpt2") return {"Gpt2", "ff1_weight", gpt2BlockSource(/*routed=*/true), gpt2TopSource(layers)};
  return {"Bert", "ff1_weight", bertBlockSource(/*routed=*/true),
          bertTopSource(layers, /*classifier=*/arch == "hf-bert-classifier")};
}

}  // namespace

bool isDecoderArch(const std::string& distill_arch) {
  return distill_arch == "hf-llama" || distill_arch == "hf-qwen2" || distill_arch == "hf-mistral";
}

bool isRoutableImport(const std::string& distill_arch) {
  return isDecoderArch(distill_arch) || distill_arch == "hf-gpt2" || distill_arch == "hf-bert" ||
         distill_arch == "hf-bert-classifier";
}

torch::jit::Module routedImport(const torch::jit::Module& dense, const std::string& path, int64_t experts,
                                int64_t top_k) {
  const std::string arch = dense.hasattr("distill_arch") ? dense.attr("distill_arch").toStringRef() : "";
  DISTILL_CHECK(isRoutableImport(arch), path, ": routed experts are built over the imports hf-llama, hf-qwen2, "
                "hf-mistral, hf-gpt2, hf-bert and hf-bert-classifier; this model is ",
                arch.empty() ? "none of them" : "a " + arch);
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  try {
    const RoutedSources sources = routedSources(dense, arch);
    torch::jit::Module top("__torch__.distill.hf.Routed" + sources.name, cu, /*shouldMangle=*/true);
    copyState(dense, top);
    top.register_attribute("ffn_experts", c10::IntType::get(), experts);
    top.register_attribute("ffn_top_k", c10::IntType::get(), top_k);
    int64_t next = 0;
    std::vector<torch::jit::Module> blocks =
        makeBlocks(top, "__torch__.distill.hf.Routed" + sources.name + "Block", dense.attr("num_layers").toInt(),
                   [&](torch::jit::Module& block) {
                     const torch::jit::Module from = dense.attr("layer" + std::to_string(next++)).toModule();
                     copyState(from, block);
                     const torch::Tensor rows = from.attr(sources.neuron).toTensor();
                     addRouterState(block, experts, top_k, rows.size(0) / experts, rows.size(1));
                   });
    assemble(top, blocks, sources.block, sources.top);
    return top;
  } catch (const c10::Error& e) {
    DISTILL_FAIL(path, ": the routed ", arch, " cannot be built over this model's attributes (was it imported by an "
                 "older version? import it again with distill import-hf): ", e.what_without_backtrace());
  } catch (const torch::jit::ErrorReport& e) {  // the block text does not compile over these attributes
    DISTILL_FAIL(path, ": the routed ", arch, " cannot be built over this model's attributes (was it imported by an "
                 "older version? import it again with distill import-hf): ", e.what());
  }
}

}  // namespace distill::model::hf
