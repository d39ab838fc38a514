#include "trainer/model/internal/transformer_body.h"

#include <cmath>
#include <memory>
#include <sstream>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "trainer/model/routed_ffn.h"

namespace distill::model::internal {
namespace {

// One pre-LayerNorm block: x + Attn(LN(x)), then x + FFN(LN(x)).
// LayerNorm computes in fp32 whatever the model's dtype (a no-op for fp32
// models): more accurate for a bf16 teacher, and LibTorch 1.13's bf16
// layer_norm on the CPU is ten times slower than its fp32 one.
// Dropout is written `torch.dropout(x, p, True) if self.training and p > 0.0
// else x`, here and in the Hugging Face families: in training, TorchScript's
// autodiff lowers torch.dropout to a Bernoulli mask drawn even at p = 0, which
// cost a quarter of a small student's step (docs/performance.md).
// q, k and v come from one fused projection: qkv_weight is [3D, D] with rows
// [q; k; v], and inside each of them head h owns rows h*head_dim..(h+1)*head_dim-1
// (the head layout docs/models.md documents for head pruning).
// Masked scores get -1e4 rather than -inf so a row with no visible key (a
// padded position with nothing before it) gives no NaN; multiplying by
// `allowed` then makes masked probabilities exactly 0 and such rows all zero.
// After structured export (trainer/checkpoint/structured_export.h) a block may
// compute fewer heads than d_model / head_dim (num_heads, possibly 0, with
// head_ids their original indices): context is num_heads * head_dim wide, and
// `all_heads` still returns one map per original head so `attentions` keeps
// its [L, B, H, T, T] shape. A removed head's map is the uniform map over the
// allowed keys, which is exactly what it computed while its q/k/v rows were
// masked to 0 (its scores were a constant per query).
constexpr const char* kBlockSource = R"TS(
def forward(self, x: Tensor, allowed: Tensor) -> Tuple[Tensor, Tensor]:
    B = x.size(0)
    T = x.size(1)
    h = torch.layer_norm(x.float(), [self.d_model], self.ln1_weight.float(), self.ln1_bias.float(), 1e-5).to(x.dtype)
    qkv = torch.linear(h, self.qkv_weight, self.qkv_bias)
    qkv = qkv.view(B, T, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
    q = qkv[0]
    k = qkv[1]
    v = qkv[2]
    scores = torch.matmul(q, k.transpose(-2, -1)) * self.scale
    scores = scores.masked_fill(allowed.logical_not(), -10000.0)
    probs = torch.softmax(scores, -1) * allowed.to(scores.dtype)
    context = torch.matmul((torch.dropout(probs, self.dropout_p, True) if self.training and self.dropout_p > 0.0 else probs), v)
    context = context.transpose(1, 2).reshape(B, T, self.num_heads * self.head_dim)
    attended = torch.linear(context, self.out_weight, self.out_bias)
    x = x + (torch.dropout(attended, self.dropout_p, True) if self.training and self.dropout_p > 0.0 else attended)
    h = torch.layer_norm(x.float(), [self.d_model], self.ln2_weight.float(), self.ln2_bias.float(), 1e-5).to(x.dtype)
    f = self.ffn(h)
    x = x + (torch.dropout(f, self.dropout_p, True) if self.training and self.dropout_p > 0.0 else f)
    return x, self.all_heads(probs, allowed)

def all_heads(self, probs: Tensor, allowed: Tensor) -> Tensor:
    total = self.d_model // self.head_dim
    if self.num_heads == total:
        return probs
    keep = allowed.to(probs.dtype).expand(probs.size(0), total, probs.size(2), probs.size(3))
    uniform = keep / keep.sum(-1, keepdim=True).clamp_min(1.0)
    index = torch.tensor(self.head_ids).to(probs.device)
    return uniform.index_copy(1, index, probs)
)TS";

constexpr const char* kDenseFfn = R"TS(
def ffn(self, h: Tensor) -> Tensor:
    return torch.linear(torch.gelu(torch.linear(h, self.ff1_weight, self.ff1_bias)), self.ff2_weight, self.ff2_bias)
)TS";

// Gives one block its attributes and freshly initialised parameters. Called
// for every block; the first call also adds the slots to the shared class type.
void registerBlockState(torch::jit::Module& block, const TransformerSize& size,
                        ParameterInit& init) {
  const int64_t d = size.d_model;
  const int64_t head_dim = d / size.num_heads;
  block.register_attribute("training", c10::BoolType::get(), true);
  block.register_attribute("dropout_p", c10::FloatType::get(), size.dropout);
  block.register_attribute("d_model", c10::IntType::get(), d);
  block.register_attribute("num_heads", c10::IntType::get(), size.num_heads);
  block.register_attribute("head_dim", c10::IntType::get(), head_dim);
  std::vector<int64_t> head_ids(size.num_heads);
  for (int64_t h = 0; h < size.num_heads; ++h) head_ids[h] = h;
  block.register_attribute("head_ids", c10::ListType::ofInts(), c10::List<int64_t>(head_ids));
  block.register_attribute("scale", c10::FloatType::get(),
                           1.0 / std::sqrt(static_cast<double>(head_dim)));
  block.register_parameter("ln1_weight", init.ones({d}), false);
  block.register_parameter("ln1_bias", init.zeros({d}), false);
  block.register_parameter("qkv_weight", init.normal({3 * d, d}), false);
  block.register_parameter("qkv_bias", init.zeros({3 * d}), false);
  block.register_parameter("out_weight", init.normal({d, d}), false);
  block.register_parameter("out_bias", init.zeros({d}), false);
  block.register_parameter("ln2_weight", init.ones({d}), false);
  block.register_parameter("ln2_bias", init.zeros({d}), false);
  block.register_parameter("ff1_weight", init.normal({size.d_ff, d}), false);
  block.register_parameter("ff1_bias", init.zeros({size.d_ff}), false);
  block.register_parameter("ff2_weight", init.normal({d, size.d_ff}), false);
  block.register_parameter("ff2_bias", init.zeros({d}), false);
  if (size.ffn_experts > 0) addRouterState(block, size.ffn_experts, size.ffn_top_k, size.d_ff / size.ffn_experts, d);
}

torch::Tensor asParameter(torch::Tensor t) {
  t.set_requires_grad(true);
  return t;
}

}  // namespace

ParameterInit::ParameterInit(uint64_t seed)
    : generator_(at::make_generator<at::CPUGeneratorImpl>(seed)) {}

torch::Tensor ParameterInit::normal(at::IntArrayRef shape) {
  return asParameter(torch::empty(shape, torch::kFloat32).normal_(0.0, 0.02, generator_));
}

torch::Tensor ParameterInit::zeros(at::IntArrayRef shape) {
  return asParameter(torch::zeros(shape, torch::kFloat32));
}

torch::Tensor ParameterInit::ones(at::IntArrayRef shape) {
  return asParameter(torch::ones(shape, torch::kFloat32));
}

void addTransformerBody(torch::jit::Module& top, const TransformerSize& size,
                        const std::string& arch, ParameterInit& init) {
  checkTransformerSize(size);
  top.register_attribute("distill_arch", c10::StringType::get(), arch);
  top.register_attribute("vocab_size", c10::IntType::get(), size.vocab_size);
  top.register_attribute("max_len", c10::IntType::get(), size.max_len);
  top.register_attribute("d_model", c10::IntType::get(), size.d_model);
  top.register_attribute("num_layers", c10::IntType::get(), size.num_layers);
  top.register_attribute("num_heads", c10::IntType::get(), size.num_heads);
  top.register_attribute("d_ff", c10::IntType::get(), size.d_ff);
  if (size.ffn_experts > 0) {
    top.register_attribute("ffn_experts", c10::IntType::get(), size.ffn_experts);
    top.register_attribute("ffn_top_k", c10::IntType::get(), size.ffn_top_k);
  }
  top.register_attribute("training", c10::BoolType::get(), true);
  top.register_attribute("dropout_p", c10::FloatType::get(), size.dropout);
  // Which layer outputs forward returns besides the logits; the trainer turns
  // off what no loss term reads (setLayerOutputs in model_io.h), so a teacher
  // does not keep [L, B, H, T, T] attention maps nobody asked for.
  top.register_attribute("output_hidden_states", c10::BoolType::get(), true);
  top.register_attribute("output_attentions", c10::BoolType::get(), true);

  top.register_parameter("embed_tokens", init.normal({size.vocab_size, size.d_model}), false);
  top.register_parameter("embed_positions", init.normal({size.max_len, size.d_model}), false);

  // All blocks share one class type, so `forward` is compiled once and the
  // saved file holds one block class however deep the model is.
  auto cu = top._ivalue()->compilation_unit();
  const bool experts = size.ffn_experts > 0;
  torch::jit::Module first(experts ? "__torch__.distill.TransformerExpertsBlock" : "__torch__.distill.TransformerBlock",
                           cu, /*shouldMangle=*/true);
  registerBlockState(first, size, init);
  first.define(std::string(kBlockSource) + (experts ? routedGeluFfnSource("") : std::string(kDenseFfn)));
  top.register_module("layer0", first);
  for (int64_t i = 1; i < size.num_layers; ++i) {
    torch::jit::Module block(cu, first.type());
    registerBlockState(block, size, init);
    top.register_module("layer" + std::to_string(i), block);
  }

  top.register_parameter("final_norm_weight", init.ones({size.d_model}), false);
  top.register_parameter("final_norm_bias", init.zeros({size.d_model}), false);
}

std::string transformerBodySource(int64_t num_layers) {
  std::ostringstream src;
  src << R"TS(
def embed(self, input_ids: Tensor) -> Tensor:
    T = input_ids.size(1)
    assert T <= self.max_len, "input length exceeds the model's max_len"
    positions = torch.arange(T, device=input_ids.device)
    x = torch.embedding(self.embed_tokens, input_ids) + torch.embedding(self.embed_positions, positions)
    return (torch.dropout(x, self.dropout_p, True) if self.training and self.dropout_p > 0.0 else x)

def final_norm(self, x: Tensor) -> Tensor:
    return torch.layer_norm(x.float(), [self.d_model], self.final_norm_weight.float(), self.final_norm_bias.float(), 1e-5).to(x.dtype)

def transform(self, input_ids: Tensor, allowed: Tensor) -> Tuple[Tensor, List[Tensor], List[Tensor]]:
    x = self.embed(input_ids)
    hidden: List[Tensor] = []
    attentions: List[Tensor] = []
    if self.output_hidden_states:
        hidden.append(x)
)TS";
  // Unrolled: one call per block, so TorchScript needs no ModuleList.
  for (int64_t i = 0; i < num_layers; ++i) {
    src << "    x, a = self.layer" << i << ".forward(x, allowed)\n"
        << "    if self.output_hidden_states:\n"
        << "        hidden.append(x)\n"
        << "    if self.output_attentions:\n"
        << "        attentions.append(a)\n";
  }
  src << R"TS(    return self.final_norm(x), hidden, attentions

def with_layers(self, logits: Tensor, hidden: List[Tensor], attentions: List[Tensor]) -> Dict[str, Tensor]:
    out = {"logits": logits}
    if self.output_hidden_states:
        out["hidden_states"] = torch.stack(hidden)
    if self.output_attentions:
        out["attentions"] = torch.stack(attentions)
    return out
)TS";
  return src.str();
}

}  // namespace distill::model::internal
