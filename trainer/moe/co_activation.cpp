#include "trainer/moe/co_activation.h"

#include <algorithm>
#include <limits>

#include "common/error.h"

namespace distill::moe {

CoActivation::CoActivation(int64_t neurons) : counts(torch::zeros({neurons, neurons}, torch::kFloat64)) {}

void CoActivation::add(const torch::Tensor& activations) {
  DISTILL_ASSERT(activations.dim() == 2 && activations.size(1) == counts.size(0));
  // float32 holds the counts of one call exactly (below 2^24 tokens).
  const torch::Tensor active = activations.gt(0).to(torch::kFloat);
  counts.add_(torch::mm(active.t(), active).to(torch::kFloat64));
  tokens += activations.size(0);
}

namespace {

torch::Tensor oneHot(const std::vector<int64_t>& expert, int64_t experts) {
  return torch::zeros({static_cast<int64_t>(expert.size()), experts}, torch::kFloat64)
      .scatter_(1, torch::tensor(expert, torch::kInt64).unsqueeze(1), 1.0);
}

// Affinity [n, E]: the mean co-activation of each neuron with each expert's members.
torch::Tensor affinity(const torch::Tensor& counts, const std::vector<int64_t>& expert, int64_t experts) {
  const torch::Tensor onehot = oneHot(expert, experts);
  return torch::mm(counts, onehot) / onehot.sum(0).clamp_min(1.0);
}

// The co-activation inside the experts: the sum of counts[i][j] over pairs in one expert.
double inside(const torch::Tensor& counts, const std::vector<int64_t>& expert, int64_t experts) {
  const torch::Tensor onehot = oneHot(expert, experts);
  return (torch::mm(counts, onehot) * onehot).sum().item<double>();
}

// Every neuron to an expert of at most `width` members, the strongest
// (neuron, expert) affinities first.
std::vector<int64_t> balancedAssignment(const torch::Tensor& affinity, int64_t width) {
  const int64_t n = affinity.size(0), experts = affinity.size(1);
  const torch::Tensor order = std::get<1>(affinity.reshape({-1}).sort(/*stable=*/true, 0, /*descending=*/true));
  const auto* idx = order.data_ptr<int64_t>();
  std::vector<int64_t> expert(static_cast<size_t>(n), -1), members(static_cast<size_t>(experts), 0);
  int64_t placed = 0;
  for (int64_t k = 0; k < n * experts && placed < n; ++k) {
    const int64_t i = idx[k] / experts, e = idx[k] % experts;
    if (expert[i] >= 0 || members[e] >= width) continue;
    expert[i] = e;
    ++members[e];
    ++placed;
  }
  return expert;
}

}  // namespace

std::vector<int64_t> balancedExperts(const CoActivation& stats, int64_t experts, const std::string& layer) {
  const int64_t n = stats.counts.size(0);
  DISTILL_CHECK(experts >= 1 && experts <= n, layer, ": ", experts, " experts for ", n,
                " FFN neurons; an expert needs at least one neuron");
  DISTILL_CHECK(n % experts == 0, layer, ": ", n, " FFN neurons do not split into ", experts,
                " equal experts (choose experts dividing ", n, ")");
  const int64_t width = n / experts;
  const torch::Tensor active = stats.counts.diagonal();
  const torch::Tensor c =
      stats.counts - torch::outer(active, active) / std::max(static_cast<double>(stats.tokens), 1.0);

  // Greedy growth: seed each expert with the most active free neuron, then
  // add the free neuron that co-activates most with the members so far.
  std::vector<int64_t> expert(static_cast<size_t>(n), -1);
  torch::Tensor free = torch::ones({n}, torch::kBool);
  const torch::Tensor activity = active.clone();
  for (int64_t e = 0; e < experts; ++e) {
    int64_t pick = activity.masked_fill(free.logical_not(), -std::numeric_limits<double>::infinity()).argmax().item<int64_t>();
    torch::Tensor link = torch::zeros({n}, torch::kFloat64);
    for (int64_t m = 0; m < width; ++m) {
      if (m > 0) pick = link.masked_fill(free.logical_not(), -std::numeric_limits<double>::infinity()).argmax().item<int64_t>();
      expert[pick] = e;
      free[pick] = false;
      link += c[pick];
    }
  }
  // Refinement: reassign everyone to the expert it co-activates with most,
  // within the balance, until the assignment is stable (or 50 rounds).
  for (int round = 0; round < 50; ++round) {
    std::vector<int64_t> next = balancedAssignment(affinity(c, expert, experts), width);
    // Keep a refinement only when it raises the co-activation inside the experts.
    if (next == expert || inside(c, next, experts) <= inside(c, expert, experts)) break;
    expert = std::move(next);
  }
  return expert;
}

torch::Tensor expertOrder(const std::vector<int64_t>& expert_of_neuron, int64_t experts) {
  std::vector<int64_t> order;
  order.reserve(expert_of_neuron.size());
  for (int64_t e = 0; e < experts; ++e) {
    for (size_t j = 0; j < expert_of_neuron.size(); ++j) {
      if (expert_of_neuron[j] == e) order.push_back(static_cast<int64_t>(j));
    }
  }
  DISTILL_ASSERT(order.size() == expert_of_neuron.size());
  return torch::tensor(order, torch::kInt64);
}

}  // namespace distill::moe
