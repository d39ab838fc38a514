// Internal: one Family per Hugging Face architecture, each in its own file
// (llama.cpp, qwen2.cpp, mistral.cpp, gpt2.cpp, bert.cpp): it reads the
// family's config.json fields, refuses what it does not implement, builds the
// TorchScript module, and names the checkpoint tensors each parameter holds
// (the table import and export share). families.cpp picks one by the config's
// `architectures` (else its `model_type`).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <torch/script.h>

#include "trainer/model/hf/hf_config.h"
#include "trainer/model/hf/hf_weights.h"
#include "trainer/model/hf/tensor_map.h"

namespace distill::model::hf {

struct Family {
  std::function<torch::jit::Module(const HfConfig&, HfWeights&)> build;
  std::function<std::vector<TensorMapping>(const HfConfig&)> tensors;
  std::function<std::vector<NeuronMember>(const HfConfig&)> neurons;  // one FFN neuron, in a block
  std::string intermediate_field;  // the config field of the FFN width: "intermediate_size", GPT-2's "n_inner"
};

Family llamaFamily();    // LlamaForCausalLM
Family qwen2Family();    // Qwen2ForCausalLM
Family mistralFamily();  // MistralForCausalLM
Family gpt2Family();     // GPT2LMHeadModel
Family bertFamily(bool with_classifier);  // BertForSequenceClassification, BertModel

// For `distill prune` (trainer/prune/): TorchScript methods to define on an
// imported GPT-2 or BERT, from the same text as its forward, so files
// imported by any version can be pruned. block_arguments(input_ids,
// attention_mask) -> [x, allowed], block 0's arguments (on the top module);
// linear_inputs(x, allowed) -> each linear layer's input (on a block):
// GPT-2 [ln_1 out, attention context, ln_2 out, FFN activation], BERT
// [block input, attention context, the attention LayerNorm's out, FFN activation].
std::string gpt2BlockArgumentsSource();
std::string gpt2LinearInputsSource();
std::string bertBlockArgumentsSource();
std::string bertLinearInputsSource();

// The TorchScript of a GPT-2 or BERT block (forward, and ffn: dense, or
// routed experts, trainer/model/routed_ffn.h) and of the top (forward, over
// `layers` blocks; BERT's with the classifier head or without).
std::string gpt2BlockSource(bool routed);
std::string gpt2TopSource(int64_t layers);
std::string bertBlockSource(bool routed);
std::string bertTopSource(int64_t layers, bool classifier);

// The family of `config`, or an error naming the file, the architecture and
// what is implemented. `architecture` receives the name it was chosen by.
const Family& familyOf(const HfConfig& config, std::string* architecture = nullptr);
std::vector<std::string> familyArchitectures();

}  // namespace distill::model::hf
