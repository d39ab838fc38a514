// The built-in blocks (trainer/model/internal/transformer_body.cpp): pre-LN,
// qkv fused, GELU feed-forward. linear_inputs is the block's forward stopped
// at every torch.linear; block 0 takes the embeddings and the attention mask.
#include "trainer/prune/prunable_blocks.h"

namespace distill::prune {
namespace {

constexpr const char* kLinearInputs = R"TS(
def linear_inputs(self, x: Tensor, allowed: Tensor) -> List[Tensor]:
    B = x.size(0)
    T = x.size(1)
    h = torch.layer_norm(x.float(), [self.d_model], self.ln1_weight.float(), self.ln1_bias.float(), 1e-5).to(x.dtype)
    qkv = torch.linear(h, self.qkv_weight, self.qkv_bias)
    qkv = qkv.view(B, T, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
    scores = torch.matmul(qkv[0], qkv[1].transpose(-2, -1)) * self.scale
    scores = scores.masked_fill(allowed.logical_not(), -10000.0)
    probs = torch.softmax(scores, -1) * allowed.to(scores.dtype)
    context = torch.matmul(probs, qkv[2]).transpose(1, 2).reshape(B, T, self.num_heads * self.head_dim)
    x = x + torch.linear(context, self.out_weight, self.out_bias)
    h2 = torch.layer_norm(x.float(), [self.d_model], self.ln2_weight.float(), self.ln2_bias.float(), 1e-5).to(x.dtype)
    g = torch.gelu(torch.linear(h2, self.ff1_weight, self.ff1_bias))
    return [h, context, h2, g]
)TS";

}  // namespace

PrunableBlocks builtinBlocks(torch::jit::Module& model) {
  PrunableBlocks blocks;
  blocks.layers = model.attr("num_layers").toInt();
  blocks.linears = {{"qkv_weight", 0}, {"out_weight", 1}, {"ff1_weight", 2}, {"ff2_weight", 3}};
  blocks.inputs = 4;
  blocks.first_arguments = [model](const data::Batch& batch) mutable {
    return std::vector<c10::IValue>{model.run_method("embed", batch.input_ids),
                                    model.run_method("attention_allowed", batch.attention_mask)};
  };
  blocks.define = [](torch::jit::Module& block) {
    if (!block.find_method("linear_inputs")) block.define(kLinearInputs);
  };
  return blocks;
}

}  // namespace distill::prune
