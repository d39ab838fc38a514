// MoEfication's expert construction (Zhang et al. 2022, "MoEfication:
// Transformer Feed-forward Layers are Mixtures of Experts"): neurons that fire
// together on the calibration tokens go into the same expert, and every expert
// gets the same number of neurons, so the experts cost the same to run.
//
//   CoActivation stats(d_ff);
//   stats.add(activations);                 // [tokens, d_ff], any number of times
//   // (sum stats.counts and stats.tokens over ranks: integers, exact in float64)
//   std::vector<int64_t> expert = balancedExperts(stats, 8, "layer0");
//   // expert[j]: the expert of neuron j; each of 0..7 holds d_ff / 8 neurons
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace distill::moe {

// How often each pair of neurons is active (> 0) on the same token.
struct CoActivation {
  torch::Tensor counts;  // [n, n] float64; counts[i][i] = tokens neuron i is active on
  int64_t tokens = 0;

  explicit CoActivation(int64_t neurons);
  void add(const torch::Tensor& activations);  // [tokens, n]
};

// Splits the neurons into `experts` groups of n / experts that maximise the
// co-activation inside each group beyond what independent neurons would
// show (counts[i][j] - counts[i][i] * counts[j][j] / tokens, as modularity
// does for graphs: GELU neurons fire on a large share of tokens, and raw
// counts would group the busiest ones whatever their pattern). A balanced
// graph partition: grown greedily from the most active free neuron, then
// refined by balanced reassignment to the group a neuron co-activates with
// most, while that raises the total. Deterministic. distill::Error naming
// `layer` when the experts do not split n equally.
std::vector<int64_t> balancedExperts(const CoActivation& stats, int64_t experts, const std::string& layer);

// The neuron order that makes every expert's neurons consecutive: expert 0's
// neurons first (in their original order), then expert 1's, ...
torch::Tensor expertOrder(const std::vector<int64_t>& expert_of_neuron, int64_t experts);

}  // namespace distill::moe
