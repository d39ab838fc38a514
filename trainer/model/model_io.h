// Loading TorchScript models and calling them under the model contract.
//
// Every model the trainer touches (students, teachers, built-in or brought
// from PyTorch) is a TorchScript module whose
//   forward(input_ids: int64 [B, T], attention_mask: int64 [B, T]) -> Dict[str, Tensor]
// returns "logits" ([B, C] or [B, T, V]) and optionally "hidden_states"
// ([L+1, B, T, D]) and "attentions" ([L, B, H, T, T]); see docs/models.md.
// These functions turn a broken contract into an error that names the model:
//
//   auto teacher = model::loadModel("models/teacher.pt");
//   auto out = model::runModel(teacher, ids, mask, "teacher 'bert-base'");
//   auto probs = torch::softmax(out.logits, -1);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/script.h>

#include "trainer/sparsity/named_tensor.h"

namespace distill::model {

// What one forward returned. A tensor the model does not provide is undefined
// (`!out.hidden_states.defined()`).
struct ModelOutputs {
  torch::Tensor logits;
  torch::Tensor hidden_states;
  torch::Tensor attentions;
};

// Loads a TorchScript file. Throws distill::Error naming `path`
// when the file is missing, is not TorchScript, or has no `forward` method.
// `device`: where the weights are loaded to, directly (a GPU worker never
// holds a CPU copy of a large teacher).
torch::jit::Module loadModel(const std::string& path, c10::Device device = c10::Device(c10::DeviceType::CPU));

// Calls m.forward(input_ids, attention_mask) and checks the result against the
// contract: a dict with string keys and tensor values, a floating-point
// "logits" of shape [B, C] or [B, T, V], and, when present, "hidden_states"
// [L+1, B, T, D] and "attentions" [L, B, H, T, T]. Errors (including
// exceptions thrown inside forward) name `model_name`.
ModelOutputs runModel(torch::jit::Module& m, const torch::Tensor& input_ids,
                      const torch::Tensor& attention_mask, const std::string& model_name);

// The contract checks of runModel on what a forward returned for `batch`
// sequences of `seq_len` tokens (for callers that run the model in parts).
ModelOutputs checkedOutputs(const c10::IValue& out, int64_t batch, int64_t seq_len, const std::string& model_name);

// All parameters of `m` and its submodules with their dotted names
// ("layer0.qkv_weight"), in the module's registration order, which is the same
// on every load of the same file. The tensors share storage with the module.
std::vector<sparsity::NamedTensor> namedParameters(const torch::jit::Module& m);

// Per parameter of `params` (the module's, from namedParameters): whether a
// backward from the module's outputs reaches it, found with one forward in
// eval mode (no dropout, so no random numbers drawn) on `input_ids` and
// `attention_mask` (a sample or two suffice). Parameters no output depends on
// get false. The module is left in the mode it was in.
std::vector<bool> receivesGradient(torch::jit::Module& m, const std::vector<sparsity::NamedTensor>& params,
                                   const torch::Tensor& input_ids, const torch::Tensor& attention_mask);

// Asks `m` to return only the layer outputs some loss term reads. Models
// with the attributes output_hidden_states / output_attentions (the built-in
// architectures) honour it; others are left as they are (their outputs are
// then computed and ignored).
void setLayerOutputs(torch::jit::Module& m, bool hidden_states, bool attentions);

// The device of the module's first parameter (the CPU for a module without any).
torch::Device deviceOf(const torch::jit::Module& m);

// The size of the last logits dimension (classes, or vocabulary for a
// language model), found by running one dummy sample of `seq_len` tokens
// (token id 0, all real) without gradients on the module's device.
int64_t outputClasses(torch::jit::Module& m, int64_t seq_len,
                      const std::string& model_name = "model");

}  // namespace distill::model
