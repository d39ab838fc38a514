// Dynamic loss scaling for fp16 (Micikevicius et al., "Mixed Precision
// Training"): the loss is multiplied by a scale S before backward so small
// gradients survive fp16; the gradients are divided by S before the optimizer.
// A step whose gradients are not finite is skipped and S halves; after
// `growth_interval` finite steps in a row S doubles. The same rule as
// torch.cuda.amp.GradScaler with its defaults.
//
//   DynamicLossScaler scaler;
//   (loss * scaler.scale()).backward();  reduce gradients;
//   if (scaler.unscale(params)) optimizer.step(...);   // false: skipped, scale backed off
#pragma once

#include <cstdint>
#include <vector>

#include "trainer/sparsity/named_tensor.h"

namespace distill::precision {

struct LossScalerOptions {
  double initial_scale = 65536.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

class DynamicLossScaler {
 public:
  explicit DynamicLossScaler(LossScalerOptions options = {});
  double scale() const { return scale_; }
  // Divides every defined gradient by the scale when all are finite and
  // returns true; otherwise leaves them, backs the scale off and returns false.
  // Either way updates the growth counter.
  bool unscale(const std::vector<sparsity::NamedTensor>& params);
  // The update rule alone, for a step whose gradients were (not) finite.
  void update(bool finite);

 private:
  LossScalerOptions options_;
  double scale_;
  int64_t finite_steps_ = 0;
};

}  // namespace distill::precision
