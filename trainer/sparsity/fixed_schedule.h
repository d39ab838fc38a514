// The fixed schedule: the masks a job starts from (sparsity.masks, as
// `distill prune` writes them) are never recomputed. Its target is their
// sparsity, whatever it is; no update step, so no criterion ever re-ranks
// them and AdamW keeps the pruned entries at 0.
//
//   sparsity: {enabled: true, masks: pruned/masks.safetensors}   # schedule fixed by default
#pragma once

#include "trainer/sparsity/schedule.h"

namespace distill::sparsity {

class FixedSchedule : public SparsitySchedule {
 public:
  explicit FixedSchedule(double sparsity) : sparsity_(sparsity) {}
  std::string name() const override { return "fixed"; }
  double target(int64_t) const override { return sparsity_; }
  bool isUpdateStep(int64_t) const override { return false; }

 private:
  double sparsity_;
};

}  // namespace distill::sparsity
