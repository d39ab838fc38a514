// The Hugging Face decoders (Llama, Qwen2, Mistral; trainer/model/hf/
// rms_decoder.h): q, k and v read the same normed input, gate and up too, so
// a block has 7 linear layers over 4 inputs. The TorchScript of block 0's
// arguments and of linear_inputs comes from rms_decoder.cpp, which shares the
// text with the forward it mirrors.
#include "trainer/model/hf/rms_decoder.h"
#include "trainer/prune/prunable_blocks.h"

namespace distill::prune {

PrunableBlocks hfDecoderBlocks(torch::jit::Module& model) {
  PrunableBlocks blocks;
  blocks.layers = model.attr("num_layers").toInt();
  blocks.linears = {{"q_weight", 0},    {"k_weight", 0},  {"v_weight", 0},   {"o_weight", 1},
                    {"gate_weight", 2}, {"up_weight", 2}, {"down_weight", 3}};
  blocks.inputs = 4;
  if (!model.find_method("block_arguments")) model.define(model::hf::decoderBlockArgumentsSource());
  blocks.first_arguments = [model](const data::Batch& batch) mutable {
    const auto list = model.run_method("block_arguments", batch.input_ids, batch.attention_mask).toTensorList();
    std::vector<c10::IValue> args;
    for (const auto& t : list) args.emplace_back(static_cast<torch::Tensor>(t));
    return args;
  };
  blocks.define = [](torch::jit::Module& block) {
    if (!block.find_method("linear_inputs")) block.define(model::hf::decoderLinearInputsSource(block));
  };
  return blocks;
}

}  // namespace distill::prune
