#include "trainer/model/builtin.h"

#include "common/error.h"

namespace distill::model {

void checkTransformerSize(const TransformerSize& size) {
  DISTILL_CHECK(size.vocab_size > 0, "model size: vocab_size must be positive, got ", size.vocab_size);
  DISTILL_CHECK(size.max_len > 0, "model size: max_len must be positive, got ", size.max_len);
  DISTILL_CHECK(size.d_model > 0, "model size: d_model must be positive, got ", size.d_model);
  DISTILL_CHECK(size.num_layers > 0, "model size: num_layers must be at least 1, got ",
                size.num_layers);
  DISTILL_CHECK(size.num_heads > 0, "model size: num_heads must be positive, got ", size.num_heads);
  DISTILL_CHECK(size.d_model % size.num_heads == 0, "model size: d_model (", size.d_model,
                ") must be divisible by num_heads (", size.num_heads, ")");
  DISTILL_CHECK(size.d_ff > 0, "model size: d_ff must be positive, got ", size.d_ff);
  DISTILL_CHECK(size.dropout >= 0.0 && size.dropout < 1.0,
                "model size: dropout must be in [0, 1), got ", size.dropout);
  DISTILL_CHECK(size.ffn_experts >= 0, "model size: ffn_experts must be >= 0 (0 = dense), got ", size.ffn_experts);
  if (size.ffn_experts > 0) {
    DISTILL_CHECK(size.ffn_experts <= size.d_ff && size.d_ff % size.ffn_experts == 0, "model size: ffn_experts (",
                  size.ffn_experts, ") must divide d_ff (", size.d_ff, ") into equal experts");
    DISTILL_CHECK(size.ffn_top_k >= 1 && size.ffn_top_k <= size.ffn_experts, "model size: ffn_top_k must be in [1, ",
                  size.ffn_experts, "] (the experts), got ", size.ffn_top_k);
  } else {
    DISTILL_CHECK(size.ffn_top_k == 0, "model size: ffn_top_k (", size.ffn_top_k, ") needs ffn_experts");
  }
}

std::vector<std::string> builtinArchitectures() { return {"encoder-classifier", "decoder-lm"}; }

}  // namespace distill::model
