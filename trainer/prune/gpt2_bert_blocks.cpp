// The Hugging Face GPT-2 and BERT imports (trainer/model/hf/gpt2.cpp,
// bert.cpp). GPT-2: pre-LayerNorm, q/k/v fused in qkv_weight, so 4 linear
// layers over 4 inputs, as the built-in blocks. BERT: post-LayerNorm, q, k
// and v separate and reading the block input, so 6 linear layers over 4
// inputs. Block 0's arguments and linear_inputs come from the family files,
// which share the text with the forward they mirror.
#include "trainer/model/hf/families.h"
#include "trainer/prune/prunable_blocks.h"

namespace distill::prune {
namespace {

PrunableBlocks importedBlocks(torch::jit::Module& model, const std::string& block_arguments,
                              const std::string& linear_inputs) {
  PrunableBlocks blocks;
  blocks.layers = model.attr("num_layers").toInt();
  blocks.inputs = 4;
  if (!model.find_method("block_arguments")) model.define(block_arguments);
  blocks.first_arguments = [model](const data::Batch& batch) mutable {
    const auto list = model.run_method("block_arguments", batch.input_ids, batch.attention_mask).toTensorList();
    return std::vector<c10::IValue>{static_cast<torch::Tensor>(list.get(0)), static_cast<torch::Tensor>(list.get(1))};
  };
  blocks.define = [linear_inputs](torch::jit::Module& block) {
    if (!block.find_method("linear_inputs")) block.define(linear_inputs);
  };
  return blocks;
}

}  // namespace

PrunableBlocks gpt2Blocks(torch::jit::Module& model) {
  PrunableBlocks blocks = importedBlocks(model, model::hf::gpt2BlockArgumentsSource(), model::hf::gpt2LinearInputsSource());
  blocks.linears = {{"qkv_weight", 0}, {"out_weight", 1}, {"ff1_weight", 2}, {"ff2_weight", 3}};
  return blocks;
}

PrunableBlocks bertBlocks(torch::jit::Module& model) {
  PrunableBlocks blocks = importedBlocks(model, model::hf::bertBlockArgumentsSource(), model::hf::bertLinearInputsSource());
  blocks.linears = {{"q_weight", 0}, {"k_weight", 0}, {"v_weight", 0},
                    {"out_weight", 1}, {"ff1_weight", 2}, {"ff2_weight", 3}};
  return blocks;
}

}  // namespace distill::prune
