// The built-in decoder language model: a causal transformer with an untied
// language-modeling head.
//
// Why untied: `embed_tokens` is excluded from pruning by default while the
// head is a weight matrix like any other; one shared tensor could not be both.
#include "trainer/model/builtin.h"

#include <torch/torch.h>

#include "trainer/model/internal/transformer_body.h"

namespace distill::model {
namespace {

// A query at position t may attend to real keys at positions <= t.
constexpr const char* kDecoderForward = R"TS(
def attention_allowed(self, attention_mask: Tensor) -> Tensor:
    T = attention_mask.size(1)
    positions = torch.arange(T, device=attention_mask.device)
    causal = positions.unsqueeze(1) >= positions.unsqueeze(0)
    return attention_mask.ne(0).unsqueeze(1).unsqueeze(2) & causal

def head(self, final: Tensor, attention_mask: Tensor, hidden: List[Tensor], attentions: List[Tensor]) -> Dict[str, Tensor]:
    logits = torch.linear(final, self.lm_head_weight)
    return self.with_layers(logits, hidden, attentions)

def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:
    allowed = self.attention_allowed(attention_mask)
    final, hidden_states, attentions = self.transform(input_ids, allowed)
    return self.head(final, attention_mask, hidden_states, attentions)
)TS";

}  // namespace

torch::jit::Module buildDecoderLM(const TransformerSize& size, uint64_t seed) {
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  torch::jit::Module model("__torch__.distill.DecoderLM", cu, /*shouldMangle=*/true);
  internal::ParameterInit init(seed);
  internal::addTransformerBody(model, size, "decoder-lm", init);
  model.register_parameter("lm_head_weight", init.normal({size.vocab_size, size.d_model}), false);
  model.define(internal::transformerBodySource(size.num_layers) + kDecoderForward);
  return model;
}

}  // namespace distill::model
