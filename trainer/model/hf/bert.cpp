// BERT (BertModel, BertForSequenceClassification): word, position and token
// type embeddings (token type 0 for every token) summed and LayerNormed, then
// post-LayerNorm blocks, LN(x + Attention(x)) and LN(x + FFN(x)) with GELU,
// the pooler (tanh of a dense layer on the first token) and, for sequence
// classification, a linear classifier on the pooled vector: logits [B, labels].
// A BertModel (no head) returns the pooled vector as `logits` [B, D] and its
// hidden states, for the intermediate terms; `last_hidden_state` and
// `pooler_output` are returned too, under transformers' names.
#include <sstream>

#include "common/error.h"
#include "trainer/model/hf/families.h"
#include "trainer/model/hf/hf_module.h"
#include "trainer/model/hf/tensor_map.h"
#include "trainer/model/routed_ffn.h"

namespace distill::model::hf {
namespace {

// Padded keys get the most negative float, as in transformers; padded queries
// still compute (their outputs are what transformers returns for them too).
// The block up to the FFN's input x1 is shared by forward and by
// linear_inputs (what `distill prune` reads: each linear layer's input).
// Dropout draws no mask at p = 0 (internal/transformer_body.cpp says why).
constexpr const char* kNorm = R"TS(
def norm(self, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    return torch.layer_norm(x.float(), [self.d_model], weight.float(), bias.float(), self.eps).to(x.dtype)
)TS";

constexpr const char* kAttention = R"TS(
    B = x.size(0)
    T = x.size(1)
    q = torch.linear(x, self.q_weight, self.q_bias).view(B, T, self.num_heads, self.head_dim).transpose(1, 2)
    k = torch.linear(x, self.k_weight, self.k_bias).view(B, T, self.num_heads, self.head_dim).transpose(1, 2)
    v = torch.linear(x, self.v_weight, self.v_bias).view(B, T, self.num_heads, self.head_dim).transpose(1, 2)
    scores = torch.matmul(q, k.transpose(-1, -2)) * self.scale
    scores = scores.float().masked_fill(allowed.logical_not(), -3.4028234663852886e38)
    probs = torch.softmax(scores, -1).to(v.dtype)
    context = torch.matmul((torch.dropout(probs, self.attn_dropout, True) if self.training and self.attn_dropout > 0.0 else probs), v)
    context = context.transpose(1, 2).reshape(B, T, self.d_model)
    attended = torch.linear(context, self.out_weight, self.out_bias)
    attended = (torch.dropout(attended, self.hidden_dropout, True) if self.training and self.hidden_dropout > 0.0 else attended)
    x1 = self.norm(x + attended, self.ln1_weight, self.ln1_bias))TS";

constexpr const char* kForward = R"TS(
def forward(self, x: Tensor, allowed: Tensor) -> Tuple[Tensor, Tensor]:{ATTENTION}
    h = self.ffn(x1)
    h = (torch.dropout(h, self.hidden_dropout, True) if self.training and self.hidden_dropout > 0.0 else h)
    return self.norm(x1 + h, self.ln2_weight, self.ln2_bias), probs
)TS";

constexpr const char* kDenseFfn = R"TS(
def ffn(self, h: Tensor) -> Tensor:
    return torch.linear(torch.gelu(torch.linear(h, self.ff1_weight, self.ff1_bias), approximate=self.approximate), self.ff2_weight, self.ff2_bias)
)TS";

// Embeddings (token type 0), their LayerNorm and the padding mask: block 0's arguments.
constexpr const char* kEmbed = R"TS(
    T = input_ids.size(1)
    assert T <= self.max_len, "sequence longer than the model's max_position_embeddings"
    positions = torch.arange(T, device=input_ids.device)
    x = torch.embedding(self.embed_tokens, input_ids) + torch.embedding(self.embed_positions, positions)
    x = x + self.embed_token_types[0]
    x = self.layer0.norm(x, self.embed_norm_weight, self.embed_norm_bias)
    x = (torch.dropout(x, self.hidden_dropout, True) if self.training and self.hidden_dropout > 0.0 else x)
    allowed = attention_mask.ne(0).unsqueeze(1).unsqueeze(2))TS";

}  // namespace

std::string bertBlockSource(bool routed) {
  std::string forward = kForward;
  forward.replace(forward.find("{ATTENTION}"), 11, kAttention);
  return kNorm + forward + (routed ? routedGeluFfnSource(", approximate=self.approximate") : std::string(kDenseFfn));
}

std::string bertTopSource(int64_t layers, bool classifier) {
  std::ostringstream src;
  src << "\ndef forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:" << kEmbed << R"TS(
    hidden: List[Tensor] = []
    attentions: List[Tensor] = []
    if self.output_hidden_states:
        hidden.append(x)
)TS";
  src << blockCalls(layers, "allowed", /*hidden_after=*/true);
  src << "    pooled = torch.tanh(torch.linear(x[:, 0], self.pooler_weight, self.pooler_bias))\n";
  if (classifier) {
    src << "    pooled = (torch.dropout(pooled, self.classifier_dropout, True) if self.training and self.classifier_dropout > 0.0 else pooled)\n"
        << "    logits = torch.linear(pooled, self.classifier_weight, self.classifier_bias)\n"
        << "    out = {\"logits\": logits}\n";
  } else {
    src << "    out = {\"logits\": pooled, \"last_hidden_state\": x, \"pooler_output\": pooled}\n";
  }
  src << kReturnWithLayers;
  return src.str();
}

namespace {

struct BertShape {
  int64_t vocab, positions, d, layers, heads, d_ff, types, labels;
};

BertShape bertShape(const HfConfig& c, bool with_classifier) {
  constexpr int64_t kSize = HfConfig::kMaxSize, kCount = HfConfig::kMaxCount;
  BertShape s{c.integer("vocab_size", 1, kSize), c.integer("max_position_embeddings", 1, kSize),
              c.integer("hidden_size", 1, kSize), c.integer("num_hidden_layers", 1, kCount),
              c.integer("num_attention_heads", 1, kCount), c.integer("intermediate_size", 1, kSize),
              c.integer("type_vocab_size", 2, 1, kSize), 0};
  DISTILL_CHECK(s.heads > 0 && s.d % s.heads == 0, c.path(), ": hidden_size (", s.d,
                ") must be a multiple of num_attention_heads (", s.heads, ")");
  if (with_classifier) {
    s.labels = c.has("id2label") ? static_cast<int64_t>(c.json().at("id2label").size()) : c.integer("num_labels", 2, 1, kSize);
  }
  return s;
}

// As transformers saves them: BertForSequenceClassification prefixes the encoder with "bert.".
std::vector<TensorMapping> bertTensors(const HfConfig& c, bool with_classifier) {
  const BertShape s = bertShape(c, with_classifier);
  const int64_t d = s.d;
  const std::string p = with_classifier ? "bert." : "";
  std::vector<TensorMapping> map = {
      {"embed_tokens", p + "embeddings.word_embeddings.weight", {s.vocab, d}},
      {"embed_positions", p + "embeddings.position_embeddings.weight", {s.positions, d}},
      {"embed_token_types", p + "embeddings.token_type_embeddings.weight", {s.types, d}},
      {"embed_norm_weight", p + "embeddings.LayerNorm.weight", {d}},
      {"embed_norm_bias", p + "embeddings.LayerNorm.bias", {d}},
  };
  for (int64_t i = 0; i < s.layers; ++i) {
    const std::string ours = "layer" + std::to_string(i) + ".";
    const std::string theirs = p + "encoder.layer." + std::to_string(i) + ".";
    const struct {
      const char* ours;
      const char* theirs;
      int64_t out, in;
    } linears[] = {
        {"q", "attention.self.query", d, d},    {"k", "attention.self.key", d, d},
        {"v", "attention.self.value", d, d},    {"out", "attention.output.dense", d, d},
        {"ff1", "intermediate.dense", s.d_ff, d}, {"ff2", "output.dense", d, s.d_ff},
    };
    for (const auto& l : linears) {
      map.push_back({ours + l.ours + "_weight", theirs + l.theirs + ".weight", {l.out, l.in}});
      map.push_back({ours + l.ours + "_bias", theirs + l.theirs + ".bias", {l.out}});
    }
    map.insert(map.end(), {{ours + "ln1_weight", theirs + "attention.output.LayerNorm.weight", {d}},
                           {ours + "ln1_bias", theirs + "attention.output.LayerNorm.bias", {d}},
                           {ours + "ln2_weight", theirs + "output.LayerNorm.weight", {d}},
                           {ours + "ln2_bias", theirs + "output.LayerNorm.bias", {d}}});
  }
  map.push_back({"pooler_weight", p + "pooler.dense.weight", {d, d}});
  map.push_back({"pooler_bias", p + "pooler.dense.bias", {d}});
  if (with_classifier) {
    map.push_back({"classifier_weight", "classifier.weight", {s.labels, d}});
    map.push_back({"classifier_bias", "classifier.bias", {s.labels}});
  }
  return map;
}

torch::jit::Module buildBert(const HfConfig& c, HfWeights& w, bool with_classifier) {
  const BertShape s = bertShape(c, with_classifier);
  c.expect("hidden_act", {"gelu", "gelu_new", "gelu_pytorch_tanh"}, "gelu");
  c.expect("position_embedding_type", {"absolute"}, "absolute");
  c.refuse("is_decoder", "a BERT decoder (causal attention) is not implemented");
  c.refuse("add_cross_attention", "cross-attention is not implemented");
  const double eps = c.number("layer_norm_eps", 1e-12);
  const double hidden_dropout = c.number("hidden_dropout_prob", 0.1);
  const std::string approximate = c.string("hidden_act", "gelu") == "gelu" ? "none" : "tanh";

  torch::jit::Module top("__torch__.distill.hf.Bert", std::make_shared<torch::jit::CompilationUnit>(),
                         /*shouldMangle=*/true);
  addTopAttributes(top, with_classifier ? "bert-classifier" : "bert", c,
                   {s.vocab, s.positions, s.d, s.layers, s.heads, s.d_ff});
  top.register_attribute("hidden_dropout", c10::FloatType::get(), hidden_dropout);
  if (with_classifier) {
    top.register_attribute("classifier_dropout", c10::FloatType::get(), c.number("classifier_dropout", hidden_dropout));
  }
  std::vector<torch::jit::Module> blocks = makeBlocks(top, "__torch__.distill.hf.BertBlock", s.layers, [&](torch::jit::Module& block) {
    addAttentionAttributes(block, s.d, s.heads, eps);
    block.register_attribute("attn_dropout", c10::FloatType::get(), c.number("attention_probs_dropout_prob", 0.1));
    block.register_attribute("hidden_dropout", c10::FloatType::get(), hidden_dropout);
    block.register_attribute("approximate", c10::StringType::get(), approximate);
  });
  std::vector<TensorMapping> map = bertTensors(c, with_classifier);
  // A BertModel config over a file saved from a model with a head keeps the "bert." prefix.
  if (!with_classifier && !w.has("embeddings.word_embeddings.weight") && w.has("bert.embeddings.word_embeddings.weight")) {
    for (auto& m : map) m.theirs = "bert." + m.theirs;
  }
  takeAll(map, w, top, blocks);
  assemble(top, blocks, bertBlockSource(/*routed=*/false), bertTopSource(s.layers, with_classifier));
  return top;
}

}  // namespace

std::string bertBlockArgumentsSource() {
  return std::string("\ndef block_arguments(self, input_ids: Tensor, attention_mask: Tensor) -> List[Tensor]:") + kEmbed +
         "\n    return [x, allowed]\n";
}

std::string bertLinearInputsSource() {
  return std::string("\ndef linear_inputs(self, x: Tensor, allowed: Tensor) -> List[Tensor]:") + kAttention +
         "\n    g = torch.gelu(torch.linear(x1, self.ff1_weight, self.ff1_bias), approximate=self.approximate)"
         "\n    return [x, context, x1, g]\n";
}

Family bertFamily(bool with_classifier) {
  return {[with_classifier](const HfConfig& c, HfWeights& w) { return buildBert(c, w, with_classifier); },
          [with_classifier](const HfConfig& c) { return bertTensors(c, with_classifier); },
          [](const HfConfig&) { return denseFfnNeurons(); },
          "intermediate_size"};
}

}  // namespace distill::model::hf
