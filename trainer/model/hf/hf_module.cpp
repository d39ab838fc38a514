#include "trainer/model/hf/hf_module.h"

#include <cmath>
#include <sstream>

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

std::vector<torch::jit::Module> makeBlocks(const torch::jit::Module& top, const std::string& type_name, int64_t layers,
                                           const std::function<void(torch::jit::Module&)>& attributes) {
  auto cu = top._ivalue()->compilation_unit();
  std::vector<torch::jit::Module> blocks;
  for (int64_t i = 0; i < layers; ++i) {
    blocks.push_back(i == 0 ? torch::jit::Module(type_name, cu, /*shouldMangle=*/true)
                            : torch::jit::Module(cu, blocks.front().type()));
    attributes(blocks.back());
  }
  return blocks;
}

void addAttentionAttributes(torch::jit::Module& block, int64_t d_model, int64_t heads, double eps) {
  block.register_attribute("training", c10::BoolType::get(), false);
  block.register_attribute("d_model", c10::IntType::get(), d_model);
  block.register_attribute("num_heads", c10::IntType::get(), heads);
  block.register_attribute("head_dim", c10::IntType::get(), d_model / heads);
  block.register_attribute("scale", c10::FloatType::get(), 1.0 / std::sqrt(static_cast<double>(d_model / heads)));
  block.register_attribute("eps", c10::FloatType::get(), eps);
}

void assemble(torch::jit::Module& top, std::vector<torch::jit::Module>& blocks, const std::string& block_source,
              const std::string& top_source) {
  blocks.front().define(block_source);
  for (size_t i = 0; i < blocks.size(); ++i) top.register_module("layer" + std::to_string(i), blocks[i]);
  top.define(top_source);
}

std::string blockCalls(int64_t layers, const std::string& args, bool hidden_after) {
  const char* keep_hidden = "    if self.output_hidden_states:\n        hidden.append(x)\n";
  std::ostringstream src;
  for (int64_t i = 0; i < layers; ++i) {
    if (!hidden_after) src << keep_hidden;
    src << "    x, a = self.layer" << i << ".forward(x, " << args << ")\n";
    if (hidden_after) src << keep_hidden;
    src << "    if self.output_attentions:\n        attentions.append(a)\n";
  }
  return src.str();
}

const char* const kReturnWithLayers = R"TS(    if self.output_hidden_states:
        out["hidden_states"] = torch.stack(hidden)
    if self.output_attentions:
        out["attentions"] = torch.stack(attentions)
    return out
)TS";

}  // namespace distill::model::hf
