#include "trainer/model/routed_ffn.h"

#include <torch/torch.h>

namespace distill::model {

void addRouterState(torch::jit::Module& block, int64_t experts, int64_t top_k, int64_t expert_width,
                    int64_t d_model) {
  block.register_attribute("num_experts", c10::IntType::get(), experts);
  block.register_attribute("top_k", c10::IntType::get(), top_k);
  block.register_attribute("expert_width", c10::IntType::get(), expert_width);
  block.register_buffer("router_weight", torch::zeros({experts, d_model}));
  block.register_buffer("router_bias", torch::zeros({experts}));
}

std::string routedFfnSource(const std::string& expert, const std::string& output_bias) {
  std::string out = R"TS(
def ffn(self, h: Tensor) -> Tensor:
    rows = h.reshape(-1, h.size(-1))
    chosen = torch.topk(self.router_scores(rows), self.top_k, -1)[1]
    out = torch.zeros_like(rows)
    for e in range(self.num_experts):
        picked = (chosen == e).any(-1).nonzero().squeeze(1)
        if picked.numel() > 0:
            start = e * self.expert_width
            x = rows.index_select(0, picked)
            out.index_add_(0, picked, ()TS" + expert + R"TS().to(out.dtype))
)TS";
  out += output_bias.empty() ? "    return out.view(h.size())\n"
                             : "    return (out + (" + output_bias + ").to(out.dtype)).view(h.size())\n";
  out += R"TS(
def router_scores(self, rows: Tensor) -> Tensor:
    x = rows.float()
    w = self.router_weight.float()
    scores: List[Tensor] = []
    for e in range(self.num_experts):
        scores.append((x * w[e]).sum(-1))
    return torch.stack(scores, -1) + self.router_bias.float()
)TS";
  return out;
}

std::string routedGeluFfnSource(const std::string& gelu_arguments) {
  return routedFfnSource("torch.linear(torch.gelu(torch.linear(x, self.ff1_weight.narrow(0, start, self.expert_width), "
                         "self.ff1_bias.narrow(0, start, self.expert_width))" +
                             gelu_arguments + "), self.ff2_weight.narrow(1, start, self.expert_width))",
                         "self.ff2_bias");
}

}  // namespace distill::model
