// PST, parameter-efficient sparse training (Li et al. 2022): the pruned
// weights stay frozen; a low-rank update and a small importance model are
// trained instead, so the trainable state is a few percent of the weights.
// Per selected matrix W0 [out, in], with U [out,r], V [r,in], A [out,r],
// B [r,in], R [out], C [in]:
//
//   W_eff = (W0 + beta * U V) * M                     the weight the model uses
//   S     = |W0 + beta * U V| + alpha1 * A B + alpha2 * (R 1^T + 1 C^T)
//   M     = top-k of S (the schedule's target, per layer or global)
//
// Gradients (closed form, pst_criterion.cpp): U and V get theirs through
// W_eff; the data-driven part of S gets the straight-through movement
// gradient dL/dS = g * (W0 + beta U V) (as in movement pruning), which
// reaches A, B, R and C. They are trained by
// AdamW (no weight decay) at optimizer.lr * pst.lr_scale. U, A start at
// N(0, 0.02) from a fixed seed, V, B, R, C at 0, so W_eff = W0 * M at first.
//
//   sparsity: {criterion: pst, scope: per_layer, pst: {rank: 4, beta: 1, alpha1: 1, alpha2: 1}}
#pragma once

#include <memory>

#include "trainer/sparsity/criterion.h"
#include "trainer/sparsity/tensor_table.h"

namespace distill::optim {
class AdamW;
}

namespace distill::sparsity {

struct PstOptions {
  int64_t rank = 4;
  double beta = 1.0, alpha1 = 1.0, alpha2 = 1.0, lr_scale = 1.0;
  static PstOptions from(const config::SparsitySpec& spec);
};

class PstCriterion : public ImportanceCriterion {
 public:
  explicit PstCriterion(PstOptions options);
  ~PstCriterion() override;
  std::string name() const override { return "pst"; }
  // Throws distill::Error naming a selected parameter that is not a matrix.
  void attach(const std::vector<NamedTensor>& params) override;
  void observe(const std::vector<NamedTensor>& params) override;
  torch::Tensor score(const std::string& param_name, const torch::Tensor& weight) const override;
  bool freezesWeights() const override { return true; }
  void step(double lr) override;
  torch::Tensor effectiveWeight(const std::string& param_name) const override;
  std::vector<NamedTensor> state() const override;
  void load(const std::map<std::string, torch::Tensor>& saved, const std::string& file) override;
  int64_t trainableCount() const override;

 private:
  struct Factors {
    torch::Tensor w0, u, v, a, b, r, c;
  };
  torch::Tensor dense(const Factors& f) const;  // W0 + beta U V
  PstOptions options_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, Factors> factors_;
  std::vector<NamedTensor> trainable_;  // "pst/U/<name>", ... (requires grad)
  std::vector<NamedTensor> frozen_;     // "pst/W0/<name>"
  std::unique_ptr<optim::AdamW> optimizer_;
  torch::Tensor optimizer_steps_ = torch::zeros({1}, torch::kInt64);
};

}  // namespace distill::sparsity
