// MoEfication's router: per layer, a linear layer on the FFN input that
// scores the experts, fitted on the calibration tokens to predict each
// expert's share of the layer's positive activation (the experts that matter
// most for a token); the FFN then runs the top-k scored experts. Full-batch
// Adam on the softmax cross-entropy against the shares; the gradient is summed
// over ranks each step, so every rank fits the same router and N ranks give
// the 1-rank fit up to float64 summation order.
//
//   Router r = fitRouter(inputs, shares, experts, options, sum);   // r.weight [E, D]
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/torch.h>

namespace distill::moe {

struct RouterOptions {
  int64_t steps = 300;
  double lr = 0.01;
};

struct Router {
  torch::Tensor weight;  // [E, D] float32
  torch::Tensor bias;    // [E] float32
  double loss = 0;       // the last step's mean cross-entropy over all ranks' tokens
};

// The experts' shares of a layer's positive activation per token: [N, E]
// rows summing to 1 (uniform where no neuron is active). `activations` are
// the FFN's [N, d_ff] hidden values with expert e's neurons at e*width...
torch::Tensor expertShares(const torch::Tensor& activations, int64_t experts);

// inputs: this rank's FFN inputs, [N_b, D] per batch; shares: the matching
// expertShares. `sum` adds a float64 tensor over every rank in place.
Router fitRouter(const std::vector<torch::Tensor>& inputs, const std::vector<torch::Tensor>& shares, int64_t experts,
                 const RouterOptions& options, const std::function<void(torch::Tensor&)>& sum);

}  // namespace distill::moe
