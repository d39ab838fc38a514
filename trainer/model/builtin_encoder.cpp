// The built-in encoder classifier: a bidirectional transformer whose logits
// come from the masked mean of its final hidden states.
//
// Why the masked mean and not the first token: the built-in models are
// trained from scratch on shards that may have no [CLS]-like token, and the
// mean over real tokens gives every position a gradient from the task.
#include "trainer/model/builtin.h"

#include <torch/torch.h>

#include "common/error.h"
#include "trainer/model/internal/transformer_body.h"

namespace distill::model {
namespace {

// Every query may attend to every real (mask != 0) key.
constexpr const char* kEncoderForward = R"TS(
def attention_allowed(self, attention_mask: Tensor) -> Tensor:
    return attention_mask.ne(0).unsqueeze(1).unsqueeze(2)

def head(self, final: Tensor, attention_mask: Tensor, hidden: List[Tensor], attentions: List[Tensor]) -> Dict[str, Tensor]:
    weights = attention_mask.ne(0).unsqueeze(-1).to(final.dtype)
    pooled = (final * weights).sum(1) / weights.sum(1).clamp_min(1.0)
    logits = torch.linear(pooled, self.classifier_weight, self.classifier_bias)
    return self.with_layers(logits, hidden, attentions)

def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:
    allowed = self.attention_allowed(attention_mask)
    final, hidden_states, attentions = self.transform(input_ids, allowed)
    return self.head(final, attention_mask, hidden_states, attentions)
)TS";

}  // namespace

torch::jit::Module buildEncoderClassifier(const TransformerSize& size, int64_t num_classes,
                                          uint64_t seed) {
  DISTILL_CHECK(num_classes > 0, "encoder-classifier: num_classes must be positive, got ",
                num_classes);
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  torch::jit::Module model("__torch__.distill.EncoderClassifier", cu, /*shouldMangle=*/true);
  internal::ParameterInit init(seed);
  internal::addTransformerBody(model, size, "encoder-classifier", init);
  model.register_attribute("num_classes", c10::IntType::get(), num_classes);
  model.register_parameter("classifier_weight", init.normal({num_classes, size.d_model}), false);
  model.register_parameter("classifier_bias", init.zeros({num_classes}), false);
  model.define(internal::transformerBodySource(size.num_layers) + kEncoderForward);
  return model;
}

}  // namespace distill::model
