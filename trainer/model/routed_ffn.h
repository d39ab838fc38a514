// The routed feed-forward layer of a moefied model (MoEfication, Zhang et al.
// 2022; trainer/moe/moefication.h), as TorchScript shared by every block type
// that can be routed: the built-in blocks and the imported GPT-2 and BERT
// (GELU), and the imported Llama-family decoders (SwiGLU). Expert e owns neurons e*expert_width..(e+1)*expert_width-1
// of the FFN's weights. The block defines
//
//   ffn(h) -> the FFN output: per token, the top_k experts the router scores
//             highest run, and their outputs add up unweighted (the dense FFN
//             is the sum over all its experts), plus the output bias once;
//   router_scores(rows [N, D]) -> [N, E], in fp32 by products and sums, which
//             autocast leaves in fp32 where it would run a linear layer in
//             bf16 and flip near-ties of the top-k.
//
// and needs the attributes num_experts, top_k, expert_width and the buffers
// router_weight [E, D], router_bias [E]. The top-k choice carries no gradient:
// the router stays what `distill moefy` fitted while the experts train.
#pragma once

#include <cstdint>
#include <string>

#include <torch/script.h>

namespace distill::model {

// Registers on `block` what routedFfnSource reads: num_experts, top_k,
// expert_width and zero routers (buffers [experts, d_model], [experts]).
void addRouterState(torch::jit::Module& block, int64_t experts, int64_t top_k, int64_t expert_width,
                    int64_t d_model);

// `expert`: a TorchScript expression of one expert's output for `x` (the rows
// that picked it), whose first neuron is `start`; `output_bias`: an
// expression added to the sum once ("" for none).
std::string routedFfnSource(const std::string& expert, const std::string& output_bias);

// routedFfnSource for ff2(gelu(ff1(h))): expert e owns ff1_weight rows,
// ff1_bias entries and ff2_weight columns e*expert_width..(e+1)*expert_width-1;
// ff2_bias is added once. `gelu_arguments`: what follows the input in the
// call to torch.gelu ("" for the exact form, ", approximate=self.approximate"
// where the block records its form).
std::string routedGeluFfnSource(const std::string& gelu_arguments);

}  // namespace distill::model
