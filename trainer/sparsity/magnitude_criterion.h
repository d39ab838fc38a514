// Magnitude pruning (Han et al., 2015; Zhu & Gupta, 2017): the weights
// closest to zero matter least. score = |W|.
//
//   sparsity: {criterion: magnitude}
#pragma once

#include "trainer/sparsity/criterion.h"

namespace distill::sparsity {

class MagnitudeCriterion : public ImportanceCriterion {
 public:
  std::string name() const override { return "magnitude"; }
  torch::Tensor score(const std::string& param_name, const torch::Tensor& weight) const override;
};

}  // namespace distill::sparsity
