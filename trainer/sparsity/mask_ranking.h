// Turns importance scores into pruning decisions at a granularity: the part
// of mask selection that is pure arithmetic on tensors, tested on its own.
//
//   RankingPlan plan = RankingPlan::make(names, shapes, granularity, groups);  // once
//   std::vector<torch::Tensor> pruned = plan.prune(scores, {sparsity, scope, min_density});
//   // pruned[i]: bool, shape of parameter i, true where the mask becomes 0
//
// Units: an entry (unstructured), a row, a column, a block, or a unit of a
// structure group (one head across Q, K, V and the output projection). A
// unit's score is the mean of its entries' scores. Units are ranked per owner
// (scope per_layer: a parameter, or a group for heads/neurons) or all
// together (global), lowest first, ties broken by lower owner then lower unit
// index, so equal scores give equal masks on every worker. N:M keeps the N
// highest of every M consecutive entries of the last dimension.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "trainer/sparsity/granularity.h"
#include "trainer/sparsity/structure_groups.h"

namespace distill::sparsity {

struct RankingTarget {
  double sparsity = 0;                 // fraction of entries to prune (ranked criteria)
  std::string scope = "global";        // "global" or "per_layer"
  double min_density = 0;              // every owner keeps at least this fraction of its units
  std::optional<double> threshold;     // thresholded criteria: prune units with score <= threshold
};

class RankingPlan {
 public:
  // `shapes[i]` is the shape of parameter `names[i]`. For heads/neurons only
  // the groups of that kind are used, and only their members that are among
  // `names`. Throws distill::Error naming the parameter when the granularity
  // cannot apply (rows of a vector, blocks that do not tile, N:M whose M does
  // not divide the last dimension).
  static RankingPlan make(const std::vector<std::string>& names, const std::vector<std::vector<int64_t>>& shapes,
                          const Granularity& granularity, const std::vector<StructureGroup>& groups);

  // scores[i] has shapes[i]; returns bool "pruned" tensors of the same shapes.
  std::vector<torch::Tensor> prune(const std::vector<torch::Tensor>& scores, const RankingTarget& target) const;

  // Units per owner (for tests and reports).
  size_t owners() const { return owners_.size(); }

 private:
  struct Owner {
    std::string name;
    int64_t units = 0;
    int64_t unit_size = 0;  // entries per unit
    // Unit scores [units] (double) from the parameters' scores.
    std::function<torch::Tensor(const std::vector<torch::Tensor>&)> unit_scores;
    // ORs pruned units [units] (bool) into the parameters' pruned tensors.
    std::function<void(const torch::Tensor&, std::vector<torch::Tensor>&)> expand;
  };
  std::vector<torch::Tensor> pruneNM(const std::vector<torch::Tensor>& scores) const;
  Granularity granularity_;
  std::vector<std::vector<int64_t>> shapes_;
  std::vector<Owner> owners_;
};

// Bool [n] marking the k lowest entries of a flat tensor, ties taken in index
// order (the result of a stable ascending sort, in O(n)).
torch::Tensor lowestK(const torch::Tensor& flat, int64_t k);

}  // namespace distill::sparsity
