#include "trainer/model/activation_checkpointing.h"

#include <torch/torch.h>

#include "common/error.h"
#include "trainer/precision/autocast_compat.h"
#include "trainer/precision/autocast_region.h"

namespace distill::model {
namespace {

// Sets a device's default generator to `state` while it lives, then restores the state it had.
class GeneratorStateGuard {
 public:
  GeneratorStateGuard(c10::Device device, const torch::Tensor& state)
      : generator_(at::globalContext().defaultGenerator(device)), saved_(generator_.get_state()) {
    generator_.set_state(state);
  }
  ~GeneratorStateGuard() { generator_.set_state(saved_); }
  GeneratorStateGuard(const GeneratorStateGuard&) = delete;
  GeneratorStateGuard& operator=(const GeneratorStateGuard&) = delete;

 private:
  at::Generator generator_;
  torch::Tensor saved_;
};

// One transformer block, forward without keeping its activations, backward
// by recomputing them (a reentrant backward: the block's parameters receive
// their gradients from the inner backward, as with torch.utils.checkpoint).
struct CheckpointedBlock : public torch::autograd::Function<CheckpointedBlock> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                                const torch::Tensor& allowed, c10::IValue block) {
    at::Generator generator = at::globalContext().defaultGenerator(x.device());
    ctx->saved_data["block"] = block;
    ctx->saved_data["rng"] = generator.get_state();
    ctx->saved_data["autocast"] = precision::autocastEnabled(x.device().type());
    ctx->saved_data["autocast_dtype"] = static_cast<int64_t>(precision::autocastDtype(x.device().type()));
    ctx->save_for_backward({x, allowed});
    // An output nobody uses (the attention map, mostly) gets no zero gradient tensor.
    ctx->set_materialize_grads(false);
    const auto out = torch::jit::Module(block.toObject()).forward({x, allowed}).toTuple();
    return {out->elements()[0].toTensor(), out->elements()[1].toTensor()};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor x = saved[0].detach().requires_grad_(true);
    const torch::Tensor& allowed = saved[1];
    torch::autograd::variable_list recomputed;
    {
      // The forward's dropout masks; the generator's current state is back however this scope ends.
      const GeneratorStateGuard replay(x.device(), ctx->saved_data["rng"].toTensor());
      torch::AutoGradMode grad_on(true);
      std::unique_ptr<precision::AutocastRegion> region;
      if (ctx->saved_data["autocast"].toBool()) {
        region = std::make_unique<precision::AutocastRegion>(
            x.device().type(), static_cast<c10::ScalarType>(ctx->saved_data["autocast_dtype"].toInt()));
      }
      const auto out = torch::jit::Module(ctx->saved_data["block"].toObject()).forward({x, allowed}).toTuple();
      recomputed = {out->elements()[0].toTensor(), out->elements()[1].toTensor()};
    }
    torch::autograd::variable_list outputs, output_grads;
    for (size_t i = 0; i < recomputed.size(); ++i) {
      if (!grads[i].defined() || !recomputed[i].requires_grad()) continue;
      outputs.push_back(recomputed[i]);
      output_grads.push_back(grads[i]);
    }
    if (!outputs.empty()) torch::autograd::backward(outputs, output_grads);
    return {x.grad(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool supportsActivationCheckpointing(const torch::jit::Module& m) {
  for (const char* method : {"attention_allowed", "embed", "final_norm", "head"}) {
    if (!m.find_method(method)) return false;
  }
  return m.hasattr("num_layers") && m.hasattr("output_hidden_states") && m.hasattr("output_attentions");
}

ModelOutputs runCheckpointed(torch::jit::Module& m, const torch::Tensor& input_ids,
                             const torch::Tensor& attention_mask, const std::string& model_name) {
  DISTILL_CHECK(supportsActivationCheckpointing(m), "runtime.activation_checkpointing: model ", model_name,
                " is not a built-in architecture of this version (distill init-model), which checkpointing needs; "
                "turn it off for this model");
  const torch::Tensor allowed = m.run_method("attention_allowed", attention_mask).toTensor();
  torch::Tensor x = m.run_method("embed", input_ids).toTensor();
  const bool keep_hidden = m.attr("output_hidden_states").toBool();
  const bool keep_attentions = m.attr("output_attentions").toBool();
  c10::List<torch::Tensor> hidden, attentions;
  if (keep_hidden) hidden.push_back(x);
  const int64_t layers = m.attr("num_layers").toInt();
  for (int64_t i = 0; i < layers; ++i) {
    const auto out = CheckpointedBlock::apply(x, allowed, m.attr("layer" + std::to_string(i)));
    x = out[0];
    if (keep_hidden) hidden.push_back(x);
    if (keep_attentions) attentions.push_back(out[1]);
  }
  const torch::Tensor final = m.run_method("final_norm", x).toTensor();
  const c10::IValue out = m.run_method("head", final, attention_mask, hidden, attentions);
  return checkedOutputs(out, input_ids.size(0), input_ids.size(1), model_name);
}

}  // namespace distill::model
