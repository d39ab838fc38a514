// Teacher combiners: how much each teacher counts, per sample, in the
// distillation loss (DESIGN.md section 5, "teachers combine per sample").
//
//   auto combiner = kd::makeCombiner(job.distill());            // "mean", "weights", "confidence"
//   torch::Tensor w = combiner->weights(teacher_logits, student_logits);  // [K,B]
//   // kd_b = sum_k w[k][b] * KL_kb
//
// Adding a combiner: one file with a TeacherCombiner subclass and one line in
// combiner_registry.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "proto/config.pb.h"

namespace distill::kd {

class TeacherCombiner {
 public:
  virtual ~TeacherCombiner() = default;
  // The name used in the config (distill.combiner) and in metrics.
  virtual std::string name() const = 0;
  // Per-sample teacher weights [K,B] (float32, each column sums to 1),
  // computed without grad. teacher_logits: K tensors [B,C]; student_logits
  // [B,C] (combiners that judge the student's competency will use it).
  virtual torch::Tensor weights(const std::vector<torch::Tensor>& teacher_logits,
                                const torch::Tensor& student_logits) const = 0;
};

// The combiner named by spec.combiner(), configured from `spec`. Throws
// distill::Error naming distill.combiner and the known names when unknown.
std::unique_ptr<TeacherCombiner> makeCombiner(const config::DistillSpec& spec);

// Names makeCombiner accepts, in registry order.
std::vector<std::string> combinerNames();

}  // namespace distill::kd
