// Internal: one function per Hugging Face model family, each in its own file
// (llama.cpp, qwen2.cpp, mistral.cpp, gpt2.cpp, bert.cpp): reads the family's
// config.json fields, refuses what it does not implement, and builds the
// TorchScript module from the weights. hf_import.cpp picks one by the
// config's `architectures`.
#pragma once

#include <torch/script.h>

#include "trainer/model/hf/hf_config.h"
#include "trainer/model/hf/hf_weights.h"

namespace distill::model::hf {

torch::jit::Module importLlama(const HfConfig& config, HfWeights& weights);    // LlamaForCausalLM
torch::jit::Module importQwen2(const HfConfig& config, HfWeights& weights);    // Qwen2ForCausalLM
torch::jit::Module importMistral(const HfConfig& config, HfWeights& weights);  // MistralForCausalLM
torch::jit::Module importGpt2(const HfConfig& config, HfWeights& weights);     // GPT2LMHeadModel
// BertModel and BertForSequenceClassification (`with_classifier`).
torch::jit::Module importBert(const HfConfig& config, HfWeights& weights, bool with_classifier);

}  // namespace distill::model::hf
