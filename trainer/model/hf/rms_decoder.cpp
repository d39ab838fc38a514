#include "trainer/model/hf/rms_decoder.h"

#include <cmath>
#include <sstream>

#include <torch/torch.h>

#include "common/error.h"
#include "trainer/model/hf/hf_module.h"
#include "trainer/model/routed_ffn.h"

namespace distill::model::hf {
namespace {

// One block, as transformers' eager attention computes it: scores in the
// model's dtype, softmax in fp32, masked keys at the most negative float (a
// row with no visible key, a padded query, gets a uniform map, as there).
// {QB} {KB} {VB} {OB} {GB} {UB} {DB} become ", self.<x>_bias" where the family
// has that bias, else nothing.
constexpr const char* kBlockHelpers = R"TS(
def rms_norm(self, x: Tensor, weight: Tensor) -> Tensor:
    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
    return weight * h.to(x.dtype)

def rotate_half(self, x: Tensor) -> Tensor:
    half = x.size(-1) // 2
    return torch.cat((-x[..., half:], x[..., :half]), -1)
)TS";

// The attention half of a block, shared by forward and linear_inputs: leaves
// h (the normed input), context (the o projection's input), x after the
// attention's residual and h2 (the FFN's normed input). Dropout draws no mask
// at p = 0 (internal/transformer_body.cpp says why).
constexpr const char* kAttention = R"TS(
    B = x.size(0)
    T = x.size(1)
    h = self.rms_norm(x, self.input_norm_weight)
    q = torch.linear(h, self.q_weight{QB}).view(B, T, self.num_heads, self.head_dim).transpose(1, 2)
    k = torch.linear(h, self.k_weight{KB}).view(B, T, self.num_kv_heads, self.head_dim).transpose(1, 2)
    v = torch.linear(h, self.v_weight{VB}).view(B, T, self.num_kv_heads, self.head_dim).transpose(1, 2)
    q = q * cos + self.rotate_half(q) * sin
    k = k * cos + self.rotate_half(k) * sin
    if self.kv_groups > 1:
        k = k.repeat_interleave(self.kv_groups, 1)
        v = v.repeat_interleave(self.kv_groups, 1)
    scores = torch.matmul(q, k.transpose(2, 3)) * self.scale
    scores = scores.float().masked_fill(allowed.logical_not(), -3.4028234663852886e38)
    probs = torch.softmax(scores, -1).to(q.dtype)
    context = torch.matmul((torch.dropout(probs, self.dropout_p, True) if self.training and self.dropout_p > 0.0 else probs), v)
    context = context.transpose(1, 2).reshape(B, T, self.num_heads * self.head_dim)
    x = x + torch.linear(context, self.o_weight{OB})
    h2 = self.rms_norm(x, self.post_norm_weight)
)TS";

constexpr const char* kForward = R"TS(
def forward(self, x: Tensor, allowed: Tensor, cos: Tensor, sin: Tensor) -> Tuple[Tensor, Tensor]:{ATTENTION}
    x = x + self.ffn(h2)
    return x, probs
)TS";

// SwiGLU: down(silu(gate(h)) * up(h)). {SWIGLU(v)} becomes the hidden
// activations silu(gate(v)) * up(v): one text for ffn and linear_inputs.
constexpr const char* kSwiglu =
    "torch.silu(torch.linear({IN}, self.gate_weight{GB})) * torch.linear({IN}, self.up_weight{UB})";

constexpr const char* kDenseFfn = R"TS(
def ffn(self, h: Tensor) -> Tensor:
    return torch.linear({SWIGLU(h)}, self.down_weight{DB})
)TS";

constexpr const char* kLinearInputs = R"TS(
def linear_inputs(self, x: Tensor, allowed: Tensor, cos: Tensor, sin: Tensor) -> List[Tensor]:{ATTENTION}
    act = {SWIGLU(h2)}
    return [h, context, h2, act]
)TS";

// The routed SwiGLU (trainer/model/routed_ffn.h): expert e owns the rows
// start..start+expert_width-1 of gate and up (and of their biases) and those
// columns of down; down's bias is added once.
std::string expertFfnSource(bool mlp_bias) {
  auto rows = [&](const std::string& name) {
    std::string out = "self." + name + "_weight.narrow(0, start, self.expert_width)";
    if (mlp_bias) out += ", self." + name + "_bias.narrow(0, start, self.expert_width)";
    return out;
  };
  return routedFfnSource("torch.linear(torch.silu(torch.linear(x, " + rows("gate") + ")) * torch.linear(x, " +
                             rows("up") + "), self.down_weight.narrow(1, start, self.expert_width))",
                         mlp_bias ? "self.down_bias" : "");
}

// `method` (kForward, kDenseFfn or kLinearInputs) with the attention half and the biases
// the family has filled in.
std::string withBiases(const char* method, bool qkv_bias, bool o_bias, bool mlp_bias) {
  std::string src = method;
  if (src.find("{ATTENTION}") != std::string::npos) src.replace(src.find("{ATTENTION}"), 11, kAttention);
  for (const std::string in : {"h", "h2"}) {
    const std::string slot = "{SWIGLU(" + in + ")}";
    if (src.find(slot) == std::string::npos) continue;
    std::string swiglu = kSwiglu;
    for (size_t at = swiglu.find("{IN}"); at != std::string::npos; at = swiglu.find("{IN}")) swiglu.replace(at, 4, in);
    src.replace(src.find(slot), slot.size(), swiglu);
  }
  auto fill = [&](const std::string& slot, bool present, const std::string& name) {
    const std::string with = present ? ", self." + name + "_bias" : "";
    for (size_t at = src.find(slot); at != std::string::npos; at = src.find(slot)) src.replace(at, slot.size(), with);
  };
  fill("{QB}", qkv_bias, "q");
  fill("{KB}", qkv_bias, "k");
  fill("{VB}", qkv_bias, "v");
  fill("{OB}", o_bias, "o");
  fill("{GB}", mlp_bias, "gate");
  fill("{UB}", mlp_bias, "up");
  fill("{DB}", mlp_bias, "down");
  return src;
}



// The top's forward up to block 0's arguments, shared by forward and block_inputs.
constexpr const char* kBlockArguments = R"TS(
    T = input_ids.size(1)
    if self.sliding_window > 0:
        assert T <= self.sliding_window, "sequence longer than the model's sliding_window, which this importer does not implement"
    x = torch.embedding(self.embed_tokens, input_ids)
    positions = torch.arange(T, device=input_ids.device)
    inv_freq = torch.tensor(self.rope_inv_freq, device=input_ids.device).float()
    freqs = positions.float().unsqueeze(1) * inv_freq.unsqueeze(0)
    angles = torch.cat((freqs, freqs), -1)
    cos = (angles.cos() * self.attention_scaling).to(x.dtype)
    sin = (angles.sin() * self.attention_scaling).to(x.dtype)
    causal = positions.unsqueeze(1) >= positions.unsqueeze(0)
    allowed = attention_mask.ne(0).unsqueeze(1).unsqueeze(2) & causal
)TS";

}  // namespace

// Unrolled over the layers, so TorchScript needs no ModuleList. hidden_states
// follows transformers: each block's input, then the final RMSNorm's output.
std::string decoderTopSource(int64_t layers, bool tied_head) {
  std::ostringstream src;
  src << "\ndef forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:" << kBlockArguments
      << R"TS(    hidden: List[Tensor] = []
    attentions: List[Tensor] = []
)TS";
  src << blockCalls(layers, "allowed, cos, sin", /*hidden_after=*/false)
      << "    x = self.layer0.rms_norm(x, self.final_norm_weight)\n"
      << "    if self.output_hidden_states:\n        hidden.append(x)\n"
      << "    out = {\"logits\": torch.linear(x, self." << (tied_head ? "embed_tokens" : "lm_head_weight") << ")}\n"
      << kReturnWithLayers;
  return src.str();
}

std::string decoderBlockSource(bool qkv_bias, bool o_bias, bool mlp_bias, bool routed) {
  return kBlockHelpers + withBiases(kForward, qkv_bias, o_bias, mlp_bias) +
         (routed ? expertFfnSource(mlp_bias) : withBiases(kDenseFfn, qkv_bias, o_bias, mlp_bias));
}

namespace {

void setBlockAttributes(torch::jit::Module& block, const DecoderSpec& s) {
  block.register_attribute("training", c10::BoolType::get(), false);
  block.register_attribute("dropout_p", c10::FloatType::get(), s.attention_dropout);
  block.register_attribute("num_heads", c10::IntType::get(), s.num_heads);
  block.register_attribute("num_kv_heads", c10::IntType::get(), s.num_kv_heads);
  block.register_attribute("kv_groups", c10::IntType::get(), s.num_heads / s.num_kv_heads);
  block.register_attribute("head_dim", c10::IntType::get(), s.head_dim);
  block.register_attribute("scale", c10::FloatType::get(), 1.0 / std::sqrt(static_cast<double>(s.head_dim)));
  block.register_attribute("eps", c10::FloatType::get(), s.rms_eps);
}

}  // namespace

std::string decoderBlockArgumentsSource() {
  return std::string("\ndef block_arguments(self, input_ids: Tensor, attention_mask: Tensor) -> List[Tensor]:") +
         kBlockArguments + "    return [x, allowed, cos, sin]\n";
}

std::string decoderLinearInputsSource(const torch::jit::Module& block) {
  return withBiases(kLinearInputs, block.hasattr("q_bias"), block.hasattr("o_bias"), block.hasattr("gate_bias"));
}

DecoderSpec readDecoderSpec(const HfConfig& c, const std::string& family) {
  DecoderSpec s;
  s.family = family;
  s.vocab_size = c.integer("vocab_size", 1, HfConfig::kMaxSize);
  s.hidden_size = c.integer("hidden_size", 1, HfConfig::kMaxSize);
  s.intermediate_size = c.integer("intermediate_size", 1, HfConfig::kMaxSize);
  s.num_layers = c.integer("num_hidden_layers", 1, HfConfig::kMaxCount);
  s.num_heads = c.integer("num_attention_heads", 1, HfConfig::kMaxCount);
  s.num_kv_heads = c.integer("num_key_value_heads", s.num_heads, 1, HfConfig::kMaxCount);
  DISTILL_CHECK(s.num_heads > 0 && s.hidden_size > 0 && s.num_layers > 0 && s.vocab_size > 0, c.path(),
                ": hidden_size, num_attention_heads, num_hidden_layers and vocab_size must be positive");
  s.head_dim = c.integer("head_dim", s.hidden_size / s.num_heads, 1, HfConfig::kMaxSize);
  DISTILL_CHECK(s.num_kv_heads > 0 && s.num_heads % s.num_kv_heads == 0, c.path(), ": num_attention_heads (",
                s.num_heads, ") must be a multiple of num_key_value_heads (", s.num_kv_heads, ")");
  s.max_positions = c.integer("max_position_embeddings", 0, 0, HfConfig::kMaxSize);
  s.rms_eps = c.number("rms_norm_eps", 1e-6);
  s.attention_dropout = c.number("attention_dropout", 0.0);
  s.tied_head = c.boolean("tie_word_embeddings", false);
  c.expect("hidden_act", {"silu"}, "silu");
  s.rope = ropeFromConfig(c, s.head_dim);
  return s;
}

std::vector<TensorMapping> decoderTensors(const DecoderSpec& s) {
  const int64_t d = s.hidden_size, q_out = s.num_heads * s.head_dim, kv_out = s.num_kv_heads * s.head_dim;
  std::vector<TensorMapping> map = {{"embed_tokens", "model.embed_tokens.weight", {s.vocab_size, d}}};
  for (int64_t i = 0; i < s.num_layers; ++i) {
    const std::string ours = "layer" + std::to_string(i) + ".", theirs = "model.layers." + std::to_string(i) + ".";
    map.push_back({ours + "input_norm_weight", theirs + "input_layernorm.weight", {d}});
    const struct {
      const char* ours;
      const char* theirs;
      int64_t out, in;
      bool bias;
    } linears[] = {
        {"q", "self_attn.q_proj", q_out, d, s.qkv_bias},
        {"k", "self_attn.k_proj", kv_out, d, s.qkv_bias},
        {"v", "self_attn.v_proj", kv_out, d, s.qkv_bias},
        {"o", "self_attn.o_proj", d, q_out, s.o_bias},
        {"gate", "mlp.gate_proj", s.intermediate_size, d, s.mlp_bias},
        {"up", "mlp.up_proj", s.intermediate_size, d, s.mlp_bias},
        {"down", "mlp.down_proj", d, s.intermediate_size, s.mlp_bias},
    };
    for (const auto& l : linears) {
      map.push_back({ours + l.ours + "_weight", theirs + l.theirs + ".weight", {l.out, l.in}});
      if (l.bias) map.push_back({ours + l.ours + "_bias", theirs + l.theirs + ".bias", {l.out}});
    }
    map.push_back({ours + "post_norm_weight", theirs + "post_attention_layernorm.weight", {d}});
  }
  map.push_back({"final_norm_weight", "model.norm.weight", {d}});
  if (!s.tied_head) map.push_back({"lm_head_weight", "lm_head.weight", {s.vocab_size, d}});
  return map;
}

std::vector<NeuronMember> decoderNeurons(const DecoderSpec& s) {
  std::vector<NeuronMember> members = {{"gate_weight", 0}, {"up_weight", 0}, {"down_weight", 1}};
  if (s.mlp_bias) members.insert(members.end(), {{"gate_bias", 0}, {"up_bias", 0}});
  return members;
}

Family decoderFamily(DecoderSpec (*spec)(const HfConfig&)) {
  return {[spec](const HfConfig& c, HfWeights& w) { return buildDecoder(spec(c), w, c); },
          [spec](const HfConfig& c) { return decoderTensors(spec(c)); },
          [spec](const HfConfig& c) { return decoderNeurons(spec(c)); }, "intermediate_size"};
}

torch::jit::Module buildDecoder(const DecoderSpec& s, HfWeights& w, const HfConfig& config) {
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  torch::jit::Module top("__torch__.distill.hf.Decoder", cu, /*shouldMangle=*/true);
  addTopAttributes(top, s.family, config,
                   {s.vocab_size, s.max_positions, s.hidden_size, s.num_layers, s.num_heads, s.intermediate_size});
  top.register_attribute("sliding_window", c10::IntType::get(), s.sliding_window);
  top.register_attribute("attention_scaling", c10::FloatType::get(), s.rope.attention_scaling);
  // A list of floats, not a tensor: converting the model to bf16 must not round the frequencies.
  const torch::Tensor inv_freq = s.rope.inv_freq.to(torch::kDouble).contiguous();
  top.register_attribute("rope_inv_freq", c10::ListType::ofFloats(),
                         c10::List<double>(std::vector<double>(inv_freq.data_ptr<double>(),
                                                               inv_freq.data_ptr<double>() + inv_freq.numel())));
  std::vector<torch::jit::Module> blocks = makeBlocks(top, "__torch__.distill.hf.DecoderBlock", s.num_layers,
                                                      [&](torch::jit::Module& block) { setBlockAttributes(block, s); });
  takeAll(decoderTensors(s), w, top, blocks);
  if (s.tied_head && w.has("lm_head.weight")) {
    w.take("lm_head.weight", {s.vocab_size, s.hidden_size});  // some files store the tied copy too
  }
  assemble(top, blocks, decoderBlockSource(s.qkv_bias, s.o_bias, s.mlp_bias, /*routed=*/false),
           decoderTopSource(s.num_layers, s.tied_head));
  return top;
}

}  // namespace distill::model::hf
