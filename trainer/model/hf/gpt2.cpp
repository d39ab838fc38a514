// GPT-2 (GPT2LMHeadModel): learned positions, pre-LayerNorm blocks with one
// fused q/k/v projection, `gelu_new` (the tanh form), a final LayerNorm and a
// head tied to the token embeddings. The checkpoint stores its projections as
// Conv1D weights [in, out]; they are transposed to the [out, in] of a linear
// layer, so the parameters read like the built-in decoder's (layer<i>.qkv_weight
// [3D, D] with rows q; k; v, layer<i>.ff1_weight, ...).
#include <cmath>
#include <sstream>

#include "common/error.h"
#include "trainer/model/hf/families.h"
#include "trainer/model/hf/hf_module.h"

namespace distill::model::hf {
namespace {

// LayerNorm in fp32 whatever the model's dtype (no-op for fp32), as the built-in models do.
constexpr const char* kBlockSource = R"TS(
def forward(self, x: Tensor, allowed: Tensor) -> Tuple[Tensor, Tensor]:
    B = x.size(0)
    T = x.size(1)
    h = torch.layer_norm(x.float(), [self.d_model], self.ln1_weight.float(), self.ln1_bias.float(), self.eps).to(x.dtype)
    qkv = torch.linear(h, self.qkv_weight, self.qkv_bias).view(B, T, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
    q = qkv[0]
    k = qkv[1]
    v = qkv[2]
    scores = torch.matmul(q, k.transpose(-1, -2)) * self.scale
    scores = scores.float().masked_fill(allowed.logical_not(), -3.4028234663852886e38)
    probs = torch.softmax(scores, -1).to(v.dtype)
    context = torch.matmul(torch.dropout(probs, self.attn_dropout, self.training), v)
    context = context.transpose(1, 2).reshape(B, T, self.d_model)
    x = x + torch.dropout(torch.linear(context, self.out_weight, self.out_bias), self.resid_dropout, self.training)
    h = torch.layer_norm(x.float(), [self.d_model], self.ln2_weight.float(), self.ln2_bias.float(), self.eps).to(x.dtype)
    h = torch.gelu(torch.linear(h, self.ff1_weight, self.ff1_bias), approximate=self.approximate)
    x = x + torch.dropout(torch.linear(h, self.ff2_weight, self.ff2_bias), self.resid_dropout, self.training)
    return x, probs
)TS";

std::string topSource(int64_t layers) {
  std::ostringstream src;
  src << R"TS(
def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:
    T = input_ids.size(1)
    assert T <= self.max_len, "sequence longer than the model's n_positions"
    positions = torch.arange(T, device=input_ids.device)
    x = torch.embedding(self.embed_tokens, input_ids) + torch.embedding(self.embed_positions, positions)
    x = torch.dropout(x, self.embed_dropout, self.training)
    causal = positions.unsqueeze(1) >= positions.unsqueeze(0)
    allowed = attention_mask.ne(0).unsqueeze(1).unsqueeze(2) & causal
    hidden: List[Tensor] = []
    attentions: List[Tensor] = []
)TS";
  for (int64_t i = 0; i < layers; ++i) {
    src << "    if self.output_hidden_states:\n        hidden.append(x)\n"
        << "    x, a = self.layer" << i << ".forward(x, allowed)\n"
        << "    if self.output_attentions:\n        attentions.append(a)\n";
  }
  src << R"TS(    x = torch.layer_norm(x.float(), [self.d_model], self.final_norm_weight.float(), self.final_norm_bias.float(), self.eps).to(x.dtype)
    if self.output_hidden_states:
        hidden.append(x)
    out = {"logits": torch.linear(x, self.embed_tokens)}
    if self.output_hidden_states:
        out["hidden_states"] = torch.stack(hidden)
    if self.output_attentions:
        out["attentions"] = torch.stack(attentions)
    return out
)TS";
  return src.str();
}

// The GPT2LMHeadModel file prefixes every name with "transformer."; a GPT2Model file does not.
std::string prefixOf(const HfWeights& w) { return w.has("transformer.wte.weight") ? "transformer." : ""; }

}  // namespace

torch::jit::Module importGpt2(const HfConfig& c, HfWeights& w) {
  const int64_t vocab = c.integer("vocab_size"), positions = c.integer("n_positions");
  const int64_t d = c.integer("n_embd"), layers = c.integer("n_layer"), heads = c.integer("n_head");
  const int64_t d_ff = c.integer("n_inner", 4 * d);
  DISTILL_CHECK(heads > 0 && d % heads == 0, c.path(), ": n_embd (", d, ") must be a multiple of n_head (", heads, ")");
  c.expect("activation_function", {"gelu_new", "gelu_pytorch_tanh", "gelu"}, "gelu_new");
  c.refuse("scale_attn_by_inverse_layer_idx", "attention scaled by the inverse layer index is not implemented");
  c.refuse("add_cross_attention", "cross-attention (an encoder-decoder GPT-2) is not implemented");
  DISTILL_CHECK(c.boolean("scale_attn_weights", true), c.path(),
                ": field \"scale_attn_weights\" is false; this importer implements scaled attention only");
  DISTILL_CHECK(c.boolean("tie_word_embeddings", true), c.path(),
                ": field \"tie_word_embeddings\" is false; GPT2LMHeadModel's head is the token embedding");
  const double eps = c.number("layer_norm_epsilon", 1e-5);
  const std::string approximate = c.string("activation_function", "gelu_new") == "gelu" ? "none" : "tanh";
  const std::string p = prefixOf(w);

  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  torch::jit::Module top("__torch__.distill.hf.Gpt2", cu, /*shouldMangle=*/true);
  addTopAttributes(top, "gpt2", c, {vocab, positions, d, layers, heads, d_ff});
  top.register_attribute("eps", c10::FloatType::get(), eps);
  top.register_attribute("embed_dropout", c10::FloatType::get(), c.number("embd_pdrop", 0.1));
  addParameter(top, "embed_tokens", w.take(p + "wte.weight", {vocab, d}));
  addParameter(top, "embed_positions", w.take(p + "wpe.weight", {positions, d}));

  auto conv1d = [&](const std::string& name, int64_t in, int64_t out) {  // [in, out] -> [out, in]
    return w.take(name, {in, out}).t().contiguous();
  };
  torch::jit::Module first("__torch__.distill.hf.Gpt2Block", cu, /*shouldMangle=*/true);
  for (int64_t i = 0; i < layers; ++i) {
    torch::jit::Module block = i == 0 ? first : torch::jit::Module(cu, first.type());
    const std::string b = p + "h." + std::to_string(i) + ".";
    block.register_attribute("training", c10::BoolType::get(), false);
    block.register_attribute("d_model", c10::IntType::get(), d);
    block.register_attribute("num_heads", c10::IntType::get(), heads);
    block.register_attribute("head_dim", c10::IntType::get(), d / heads);
    block.register_attribute("scale", c10::FloatType::get(), 1.0 / std::sqrt(static_cast<double>(d / heads)));
    block.register_attribute("eps", c10::FloatType::get(), eps);
    block.register_attribute("attn_dropout", c10::FloatType::get(), c.number("attn_pdrop", 0.1));
    block.register_attribute("resid_dropout", c10::FloatType::get(), c.number("resid_pdrop", 0.1));
    block.register_attribute("approximate", c10::StringType::get(), approximate);
    addParameter(block, "ln1_weight", w.take(b + "ln_1.weight", {d}));
    addParameter(block, "ln1_bias", w.take(b + "ln_1.bias", {d}));
    addParameter(block, "qkv_weight", conv1d(b + "attn.c_attn.weight", d, 3 * d));
    addParameter(block, "qkv_bias", w.take(b + "attn.c_attn.bias", {3 * d}));
    addParameter(block, "out_weight", conv1d(b + "attn.c_proj.weight", d, d));
    addParameter(block, "out_bias", w.take(b + "attn.c_proj.bias", {d}));
    addParameter(block, "ln2_weight", w.take(b + "ln_2.weight", {d}));
    addParameter(block, "ln2_bias", w.take(b + "ln_2.bias", {d}));
    addParameter(block, "ff1_weight", conv1d(b + "mlp.c_fc.weight", d, d_ff));
    addParameter(block, "ff1_bias", w.take(b + "mlp.c_fc.bias", {d_ff}));
    addParameter(block, "ff2_weight", conv1d(b + "mlp.c_proj.weight", d_ff, d));
    addParameter(block, "ff2_bias", w.take(b + "mlp.c_proj.bias", {d}));
    if (i == 0) first.define(kBlockSource);
    top.register_module("layer" + std::to_string(i), block);
  }
  addParameter(top, "final_norm_weight", w.take(p + "ln_f.weight", {d}));
  addParameter(top, "final_norm_bias", w.take(p + "ln_f.bias", {d}));
  if (w.has("lm_head.weight")) w.take("lm_head.weight", {vocab, d});  // the tied copy some files keep
  top.define(topSource(layers));
  return top;
}

}  // namespace distill::model::hf
