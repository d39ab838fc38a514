#include "trainer/model/hf/hf_module.h"

namespace distill::model::hf {

void addTopAttributes(torch::jit::Module& top, const std::string& family, const HfConfig& config,
                      const ModuleShape& shape) {
  top.register_attribute("distill_arch", c10::StringType::get(), "hf-" + family);
  top.register_attribute("hf_config", c10::StringType::get(), config.json().dump());
  top.register_attribute("vocab_size", c10::IntType::get(), shape.vocab_size);
  top.register_attribute("max_len", c10::IntType::get(), shape.max_len);
  top.register_attribute("d_model", c10::IntType::get(), shape.d_model);
  top.register_attribute("num_layers", c10::IntType::get(), shape.num_layers);
  top.register_attribute("num_heads", c10::IntType::get(), shape.num_heads);
  top.register_attribute("d_ff", c10::IntType::get(), shape.d_ff);
  top.register_attribute("training", c10::BoolType::get(), false);
  top.register_attribute("output_hidden_states", c10::BoolType::get(), true);
  top.register_attribute("output_attentions", c10::BoolType::get(), true);
}

void addParameter(torch::jit::Module& m, const std::string& name, torch::Tensor t) {
  t.set_requires_grad(true);
  m.register_parameter(name, t, /*is_buffer=*/false);
}

}  // namespace distill::model::hf
