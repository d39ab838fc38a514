// One-shot pruning of one linear layer from calibration statistics, the
// methods `distill prune` offers (docs/sparsity.md#one-shot-pruning):
//
//   magnitude   keep the largest |W| (per layer; per group for N:M)
//   wanda       keep the largest |W_ij| * ||X_j||, compared within each output
//               row (Sun et al. 2023, "A Simple and Effective Pruning Approach")
//   sparsegpt   optimal-brain-surgeon pruning with the weight update that
//               compensates each pruned weight on the remaining ones, column
//               block by column block (Frantar & Alistarh 2023, "SparseGPT")
//
// W is a linear layer's [out, in] weight (y = x W^T); its calibration inputs
// X [tokens, in] enter only through LayerStatistics, which sum over tokens and
// so add up across workers (reduce them with a sum, then prune).
//
//   LayerStatistics stats(in_features);
//   stats.add(inputs);                                   // any number of times
//   Pruned p = pruneSparseGpt(weight, stats, Pattern::parse("2:4", "--sparsity"));
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace distill::prune {

// What to remove: a fraction of each layer (unstructured), or N:M — keep n of
// every m consecutive entries along the input dimension (2:4 is what sparse
// tensor cores run).
struct Pattern {
  double sparsity = 0;  // unstructured: the fraction removed, in [0, 1)
  int64_t n = 0, m = 0;  // N:M when m > 0

  bool nm() const { return m > 0; }
  // "0.5", "2:4", "4:8"; throws distill::Error naming `field`.
  static Pattern parse(const std::string& text, const std::string& field);
  std::string describe() const;  // "50% unstructured", "2:4"
};

// Throws distill::Error naming `layer` when `pattern` cannot apply to a weight
// of this shape (N:M: the input dimension must be a multiple of m).
void checkFits(const Pattern& pattern, const torch::Tensor& weight, const std::string& layer);

// Sums over calibration tokens of one layer's inputs, in float64.
struct LayerStatistics {
  torch::Tensor gram;        // [in, in]: sum of x x^T (SparseGPT's Hessian, up to a factor 2)
  torch::Tensor sq_norms;    // [in]: sum of x_j^2 (Wanda's ||X_j||^2; the Gram's diagonal)
  int64_t tokens = 0;

  explicit LayerStatistics(int64_t in_features, bool with_gram = true);
  // inputs [.., in] (any float dtype): every row is one token.
  void add(const torch::Tensor& inputs);
};

struct Pruned {
  torch::Tensor weight;  // float32, pruned entries exactly 0 (SparseGPT also updates the others)
  torch::Tensor mask;    // bool, true = kept
};

Pruned pruneMagnitude(const torch::Tensor& weight, const Pattern& pattern);
Pruned pruneWanda(const torch::Tensor& weight, const LayerStatistics& stats, const Pattern& pattern);

struct SparseGptOptions {
  int64_t block = 128;      // columns per lazy batch update (and per mask selection, unstructured)
  double dampening = 0.01;  // added to the Hessian's diagonal, as a fraction of its mean
};
Pruned pruneSparseGpt(const torch::Tensor& weight, const LayerStatistics& stats, const Pattern& pattern,
                      const SparseGptOptions& options = {});

}  // namespace distill::prune
