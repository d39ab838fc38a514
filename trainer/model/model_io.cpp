#include "trainer/model/model_io.h"

#include <filesystem>

#include <torch/torch.h>

#include "common/error.h"

namespace distill::model {
namespace {

// c10 errors carry a C++ backtrace that says nothing to a user; keep the message.
std::string describe(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) {
    return c10_error->what_without_backtrace();
  }
  return e.what();
}

torch::Tensor optionalTensor(const c10::impl::GenericDict& dict, const std::string& key,
                             const std::string& model_name) {
  auto it = dict.find(key);
  if (it == dict.end()) return {};
  DISTILL_CHECK(it->value().isTensor(), "model ", model_name, ": output \"", key,
                "\" must be a Tensor, got ", it->value().tagKind());
  return it->value().toTensor();
}

}  // namespace

torch::jit::Module loadModel(const std::string& path, c10::Device device) {
  std::error_code ec;
  DISTILL_CHECK(std::filesystem::is_regular_file(path, ec), "model file ", path,
                " does not exist (or is not a regular file)");
  torch::jit::Module m;
  try {
    m = torch::jit::load(path, device);
  } catch (const std::exception& e) {
    DISTILL_FAIL("model file ", path,
                 " is not a TorchScript module (save it with torch.jit.script(model).save(path)): ",
                 describe(e));
  }
  DISTILL_CHECK(m.find_method("forward").has_value(), "model file ", path,
                " has no forward method; see docs/models.md for the contract");
  return m;
}

ModelOutputs runModel(torch::jit::Module& m, const torch::Tensor& input_ids,
                      const torch::Tensor& attention_mask, const std::string& model_name) {
  DISTILL_CHECK(input_ids.dim() == 2 && input_ids.scalar_type() == torch::kInt64, "model ",
                model_name, ": input_ids must be int64 [B, T], got ", input_ids.scalar_type(), " ",
                input_ids.sizes());
  DISTILL_CHECK(attention_mask.sizes() == input_ids.sizes() &&
                    attention_mask.scalar_type() == torch::kInt64,
                "model ", model_name, ": attention_mask must be int64 ", input_ids.sizes(), ", got ",
                attention_mask.scalar_type(), " ", attention_mask.sizes());
  c10::IValue out;
  try {
    out = m.forward({input_ids, attention_mask});
  } catch (const std::exception& e) {
    DISTILL_FAIL("model ", model_name, ": forward failed: ", describe(e));
  }
  return checkedOutputs(out, input_ids.size(0), input_ids.size(1), model_name);
}

ModelOutputs checkedOutputs(const c10::IValue& out, int64_t batch, int64_t seq_len, const std::string& model_name) {
  DISTILL_CHECK(out.isGenericDict(), "model ", model_name,
                ": forward must return Dict[str, Tensor] with key \"logits\", but returned ",
                out.tagKind(), "; see docs/models.md");
  const auto dict = out.toGenericDict();
  for (const auto& entry : dict) {
    DISTILL_CHECK(entry.key().isString(), "model ", model_name,
                  ": forward must return a dict with string keys, got a ", entry.key().tagKind(),
                  " key");
  }

  ModelOutputs result;
  result.logits = optionalTensor(dict, "logits", model_name);
  result.hidden_states = optionalTensor(dict, "hidden_states", model_name);
  result.attentions = optionalTensor(dict, "attentions", model_name);

  const auto& logits = result.logits;
  DISTILL_CHECK(logits.defined(), "model ", model_name,
                ": forward returned no \"logits\" entry; see docs/models.md");
  DISTILL_CHECK(logits.is_floating_point(), "model ", model_name,
                ": logits must be floating point, got ", logits.scalar_type());
  DISTILL_CHECK((logits.dim() == 2 || logits.dim() == 3) && logits.size(0) == batch &&
                    (logits.dim() == 2 || logits.size(1) == seq_len),
                "model ", model_name, ": logits must be [B, C] or [B, T, V] with B=", batch,
                " T=", seq_len, ", got ", logits.sizes());
  const auto& hidden = result.hidden_states;
  DISTILL_CHECK(!hidden.defined() || (hidden.dim() == 4 && hidden.size(1) == batch &&
                                      hidden.size(2) == seq_len),
                "model ", model_name, ": hidden_states must be [L+1, B, T, D] with B=", batch,
                " T=", seq_len, ", got ", hidden.defined() ? hidden.sizes() : at::IntArrayRef{});
  const auto& attn = result.attentions;
  DISTILL_CHECK(!attn.defined() || (attn.dim() == 5 && attn.size(1) == batch &&
                                    attn.size(3) == seq_len && attn.size(4) == seq_len),
                "model ", model_name, ": attentions must be [L, B, H, T, T] with B=", batch,
                " T=", seq_len, ", got ", attn.defined() ? attn.sizes() : at::IntArrayRef{});
  return result;
}

std::vector<sparsity::NamedTensor> namedParameters(const torch::jit::Module& m) {
  std::vector<sparsity::NamedTensor> params;
  for (const auto& p : m.named_parameters(/*recurse=*/true)) params.push_back({p.name, p.value});
  return params;
}

torch::Device deviceOf(const torch::jit::Module& m) {
  for (const auto& p : m.parameters()) return p.device();
  return torch::kCPU;
}

int64_t outputClasses(torch::jit::Module& m, int64_t seq_len, const std::string& model_name) {
  DISTILL_CHECK(seq_len > 0, "model ", model_name, ": seq_len must be positive, got ", seq_len);
  torch::NoGradGuard no_grad;
  auto options = torch::TensorOptions().dtype(torch::kInt64).device(deviceOf(m));
  auto ids = torch::zeros({1, seq_len}, options);
  auto mask = torch::ones({1, seq_len}, options);
  return runModel(m, ids, mask, model_name).logits.size(-1);
}

std::vector<bool> receivesGradient(torch::jit::Module& m, const std::vector<sparsity::NamedTensor>& params,
                                   const torch::Tensor& input_ids, const torch::Tensor& attention_mask) {
  const bool was_training = m.is_training();
  m.eval();
  const ModelOutputs out = runModel(m, input_ids, attention_mask, "student");
  if (was_training) m.train();
  torch::Tensor sum = out.logits.to(torch::kFloat).sum();
  if (out.hidden_states.defined()) sum = sum + out.hidden_states.to(torch::kFloat).sum();
  if (out.attentions.defined()) sum = sum + out.attentions.to(torch::kFloat).sum();
  std::vector<torch::Tensor> inputs;
  std::vector<size_t> index;  // position in params of each input
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i].tensor.requires_grad()) continue;
    inputs.push_back(params[i].tensor);
    index.push_back(i);
  }
  std::vector<bool> reached(params.size(), false);
  if (inputs.empty() || !sum.requires_grad()) return reached;
  const auto grads = torch::autograd::grad({sum}, inputs, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                           /*allow_unused=*/true);
  for (size_t j = 0; j < grads.size(); ++j) reached[index[j]] = grads[j].defined();
  return reached;
}

void setLayerOutputs(torch::jit::Module& m, bool hidden_states, bool attentions) {
  if (m.hasattr("output_hidden_states")) m.setattr("output_hidden_states", hidden_states);
  if (m.hasattr("output_attentions")) m.setattr("output_attentions", attentions);
}

}  // namespace distill::model
