// Teacher combiners: how much each teacher counts, per sample, in the
// distillation loss (DESIGN.md section 5, "teachers combine per sample").
//
//   auto combiner = kd::makeCombiner(job.distill());            // "mean", "confidence", ...
//   kd::CombinerExtras extras;                                  // only what the combiner asks for:
//   extras.labels = labels;                                     //   labels (amalgamation)
//   if (combiner->stochasticPasses() > 1) extras.teacher_passes = ...;  // [M,B,C] per teacher (mc_dropout)
//   torch::Tensor w = combiner->weightsWith(teacher_logits, student_logits, extras);  // [K,B]
//   // kd_b = sum_k w[k][b] * KL_kb
//
// Each column of w sums to 1, except for a sample no teacher may teach
// (amalgamation: no teacher covers its label), whose column is all 0: its
// distillation terms are then 0. The same [K,B] weights combine the
// intermediate terms (intermediate_loss.h).
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

// What some combiners need beyond the teachers' and the student's logits.
struct CombinerExtras {
  // Per teacher, [M,B,C]: M = stochasticPasses() forward passes with dropout
  // on (train mode), in the student's class space like teacher_logits. Empty
  // when the combiner asks for one pass.
  std::vector<torch::Tensor> teacher_passes;
  // [B] int64 with -100 = no label; undefined for unlabelled data.
  torch::Tensor labels;
};

class TeacherCombiner {
 public:
  virtual ~TeacherCombiner() = default;
  // The name used in the config (distill.combiner) and in metrics.
  virtual std::string name() const = 0;
  // Per-sample teacher weights [K,B] (float32, each column sums to 1 or is all 0),
  // computed without grad. teacher_logits: K tensors [B,C]; student_logits
  // [B,C] (combiners that judge the student's competency will use it).
  virtual torch::Tensor weights(const std::vector<torch::Tensor>& teacher_logits,
                                const torch::Tensor& student_logits) const = 0;

  // Whether the weights depend on the teachers' logits. A combiner that only
  // counts them (mean, weights) lets teachers given as their top-k (placement
  // cache or pool) skip the dense [R, V] logits (top_k_divergence.h).
  virtual bool readsTeacherLogits() const { return true; }

  // How many stochastic passes (dropout on) of each teacher weightsWith()
  // needs in extras.teacher_passes. 1: none, the teacher logits suffice.
  virtual int stochasticPasses() const { return 1; }

  // weights() with what the combiner may also need (passes, labels). The
  // default ignores the extras; combiners that use them override this.
  virtual torch::Tensor weightsWith(const std::vector<torch::Tensor>& teacher_logits,
                                    const torch::Tensor& student_logits, const CombinerExtras& extras) const {
    (void)extras;
    return weights(teacher_logits, student_logits);
  }
};

// The combiner named by spec.combiner(), configured from `spec`. Throws
// distill::Error naming distill.combiner and the known names when unknown.
std::unique_ptr<TeacherCombiner> makeCombiner(const config::DistillSpec& spec);

// Names makeCombiner accepts, in registry order.
std::vector<std::string> combinerNames();

}  // namespace distill::kd
