// GPT-2 (GPT2LMHeadModel): learned positions, pre-LayerNorm blocks with one
// fused q/k/v projection, `gelu_new` (the tanh form), a final LayerNorm and a
// head tied to the token embeddings. The checkpoint stores its projections as
// Conv1D weights [in, out]; they are transposed to the [out, in] of a linear
// layer, so the parameters read like the built-in decoder's (layer<i>.qkv_weight
// [3D, D] with rows q; k; v, layer<i>.ff1_weight, ...).
#include <sstream>

#include "common/error.h"
#include "trainer/model/hf/families.h"
#include "trainer/model/hf/hf_module.h"
#include "trainer/model/hf/tensor_map.h"
#include "trainer/model/routed_ffn.h"

namespace distill::model::hf {
namespace {

// The block up to the FFN's input h2 (LayerNorm in fp32 whatever the model's
// dtype, as the built-in models do), shared by forward and by linear_inputs
// (what `distill prune` reads: each linear layer's input). Dropout draws no
// mask at p = 0 (internal/transformer_body.cpp says why).
constexpr const char* kAttention = R"TS(
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
    context = torch.matmul((torch.dropout(probs, self.attn_dropout, True) if self.training and self.attn_dropout > 0.0 else probs), v)
    context = context.transpose(1, 2).reshape(B, T, self.d_model)
    attended = torch.linear(context, self.out_weight, self.out_bias)
    x = x + (torch.dropout(attended, self.resid_dropout, True) if self.training and self.resid_dropout > 0.0 else attended)
    h2 = torch.layer_norm(x.float(), [self.d_model], self.ln2_weight.float(), self.ln2_bias.float(), self.eps).to(x.dtype))TS";

constexpr const char* kForward = R"TS(
def forward(self, x: Tensor, allowed: Tensor) -> Tuple[Tensor, Tensor]:{ATTENTION}
    f = self.ffn(h2)
    x = x + (torch.dropout(f, self.resid_dropout, True) if self.training and self.resid_dropout > 0.0 else f)
    return x, probs
)TS";

constexpr const char* kDenseFfn = R"TS(
def ffn(self, h: Tensor) -> Tensor:
    return torch.linear(torch.gelu(torch.linear(h, self.ff1_weight, self.ff1_bias), approximate=self.approximate), self.ff2_weight, self.ff2_bias)
)TS";

// Token and position embeddings and the causal mask: block 0's arguments.
constexpr const char* kEmbed = R"TS(
    T = input_ids.size(1)
    assert T <= self.max_len, "sequence longer than the model's n_positions"
    positions = torch.arange(T, device=input_ids.device)
    x = torch.embedding(self.embed_tokens, input_ids) + torch.embedding(self.embed_positions, positions)
    x = (torch.dropout(x, self.embed_dropout, True) if self.training and self.embed_dropout > 0.0 else x)
    causal = positions.unsqueeze(1) >= positions.unsqueeze(0)
    allowed = attention_mask.ne(0).unsqueeze(1).unsqueeze(2) & causal)TS";

}  // namespace

std::string gpt2TopSource(int64_t layers) {
  std::ostringstream src;
  src << "\ndef forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:" << kEmbed << R"TS(
    hidden: List[Tensor] = []
    attentions: List[Tensor] = []
)TS";
  src << blockCalls(layers, "allowed", /*hidden_after=*/false)
      << R"TS(    x = torch.layer_norm(x.float(), [self.d_model], self.final_norm_weight.float(), self.final_norm_bias.float(), self.eps).to(x.dtype)
    if self.output_hidden_states:
        hidden.append(x)
    out = {"logits": torch.linear(x, self.embed_tokens)}
)TS" << kReturnWithLayers;
  return src.str();
}

std::string gpt2BlockSource(bool routed) {
  std::string forward = kForward;
  forward.replace(forward.find("{ATTENTION}"), 11, kAttention);
  return forward + (routed ? routedGeluFfnSource(", approximate=self.approximate") : std::string(kDenseFfn));
}

namespace {

struct Gpt2Shape {
  int64_t vocab, positions, d, layers, heads, d_ff;
};

Gpt2Shape gpt2Shape(const HfConfig& c) {
  constexpr int64_t kSize = HfConfig::kMaxSize, kCount = HfConfig::kMaxCount;
  Gpt2Shape s{c.integer("vocab_size", 1, kSize), c.integer("n_positions", 1, kSize), c.integer("n_embd", 1, kSize),
              c.integer("n_layer", 1, kCount), c.integer("n_head", 1, kCount), 0};
  s.d_ff = c.integer("n_inner", 4 * s.d, 1, kSize);
  DISTILL_CHECK(s.heads > 0 && s.d % s.heads == 0, c.path(), ": n_embd (", s.d, ") must be a multiple of n_head (",
                s.heads, ")");
  return s;
}

// As GPT2LMHeadModel saves them ("transformer." prefix). Conv1D weights are
// stored [in, out] and held [out, in].
std::vector<TensorMapping> gpt2Tensors(const HfConfig& c) {
  const Gpt2Shape s = gpt2Shape(c);
  const int64_t d = s.d;
  std::vector<TensorMapping> map = {{"embed_tokens", "transformer.wte.weight", {s.vocab, d}},
                                    {"embed_positions", "transformer.wpe.weight", {s.positions, d}}};
  for (int64_t i = 0; i < s.layers; ++i) {
    const std::string ours = "layer" + std::to_string(i) + ".", theirs = "transformer.h." + std::to_string(i) + ".";
    map.insert(map.end(), {
        {ours + "ln1_weight", theirs + "ln_1.weight", {d}},
        {ours + "ln1_bias", theirs + "ln_1.bias", {d}},
        {ours + "qkv_weight", theirs + "attn.c_attn.weight", {d, 3 * d}, true},
        {ours + "qkv_bias", theirs + "attn.c_attn.bias", {3 * d}},
        {ours + "out_weight", theirs + "attn.c_proj.weight", {d, d}, true},
        {ours + "out_bias", theirs + "attn.c_proj.bias", {d}},
        {ours + "ln2_weight", theirs + "ln_2.weight", {d}},
        {ours + "ln2_bias", theirs + "ln_2.bias", {d}},
        {ours + "ff1_weight", theirs + "mlp.c_fc.weight", {d, s.d_ff}, true},
        {ours + "ff1_bias", theirs + "mlp.c_fc.bias", {s.d_ff}},
        {ours + "ff2_weight", theirs + "mlp.c_proj.weight", {s.d_ff, d}, true},
        {ours + "ff2_bias", theirs + "mlp.c_proj.bias", {d}},
    });
  }
  map.push_back({"final_norm_weight", "transformer.ln_f.weight", {d}});
  map.push_back({"final_norm_bias", "transformer.ln_f.bias", {d}});
  return map;
}

torch::jit::Module buildGpt2(const HfConfig& c, HfWeights& w) {
  const Gpt2Shape s = gpt2Shape(c);
  c.expect("activation_function", {"gelu_new", "gelu_pytorch_tanh", "gelu"}, "gelu_new");
  c.refuse("scale_attn_by_inverse_layer_idx", "attention scaled by the inverse layer index is not implemented");
  c.refuse("add_cross_attention", "cross-attention (an encoder-decoder GPT-2) is not implemented");
  DISTILL_CHECK(c.boolean("scale_attn_weights", true), c.path(),
                ": field \"scale_attn_weights\" is false; this importer implements scaled attention only");
  DISTILL_CHECK(c.boolean("tie_word_embeddings", true), c.path(),
                ": field \"tie_word_embeddings\" is false; GPT2LMHeadModel's head is the token embedding");
  const double eps = c.number("layer_norm_epsilon", 1e-5);
  const std::string approximate = c.string("activation_function", "gelu_new") == "gelu" ? "none" : "tanh";

  torch::jit::Module top("__torch__.distill.hf.Gpt2", std::make_shared<torch::jit::CompilationUnit>(),
                         /*shouldMangle=*/true);
  addTopAttributes(top, "gpt2", c, {s.vocab, s.positions, s.d, s.layers, s.heads, s.d_ff});
  top.register_attribute("eps", c10::FloatType::get(), eps);
  top.register_attribute("embed_dropout", c10::FloatType::get(), c.number("embd_pdrop", 0.1));
  std::vector<torch::jit::Module> blocks = makeBlocks(top, "__torch__.distill.hf.Gpt2Block", s.layers, [&](torch::jit::Module& block) {
    addAttentionAttributes(block, s.d, s.heads, eps);
    block.register_attribute("attn_dropout", c10::FloatType::get(), c.number("attn_pdrop", 0.1));
    block.register_attribute("resid_dropout", c10::FloatType::get(), c.number("resid_pdrop", 0.1));
    block.register_attribute("approximate", c10::StringType::get(), approximate);
  });
  std::vector<TensorMapping> map = gpt2Tensors(c);
  // The original OpenAI files name the tensors without the "transformer." prefix.
  if (!w.has("transformer.wte.weight") && w.has("wte.weight")) {
    for (auto& m : map) m.theirs = m.theirs.substr(std::string("transformer.").size());
  }
  takeAll(map, w, top, blocks);
  if (w.has("lm_head.weight")) w.take("lm_head.weight", {s.vocab, s.d});  // the tied copy some files keep
  assemble(top, blocks, gpt2BlockSource(/*routed=*/false), gpt2TopSource(s.layers));
  return top;
}

}  // namespace

std::string gpt2BlockArgumentsSource() {
  return std::string("\ndef block_arguments(self, input_ids: Tensor, attention_mask: Tensor) -> List[Tensor]:") + kEmbed +
         "\n    return [x, allowed]\n";
}

std::string gpt2LinearInputsSource() {
  return std::string("\ndef linear_inputs(self, x: Tensor, allowed: Tensor) -> List[Tensor]:") + kAttention +
         "\n    g = torch.gelu(torch.linear(h2, self.ff1_weight, self.ff1_bias), approximate=self.approximate)"
         "\n    return [h, context, h2, g]\n";
}

Family gpt2Family() {
  return {buildGpt2, gpt2Tensors,
          [](const HfConfig&) { return denseFfnNeurons(); },
          "n_inner"};
}

}  // namespace distill::model::hf
