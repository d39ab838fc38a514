// The whole loss of one training step: task cross-entropy plus the
// teacher-combined logit divergence, with the numbers the worker reports.
//
//   auto combiner = kd::makeCombiner(job.distill());
//   kd::LossBreakdown loss = kd::distillationLoss(student_logits, teacher_logits, labels,
//                                                 job.distill(), combiner.get());
//   loss.total.backward();
//   report(loss.task, loss.kd, loss.teacher_kl, loss.teacher_weight);
//
// total = task_weight * mean_b CE_b + kd_weight * mean_b sum_k w_kb D_kb
// where the means run over rows whose label is not -100, w comes from the
// combiner and D_kb is distill.divergence between teacher k and the student on
// row b (divergence.h; "KL" in the names below, forward KL by default).
// Teachers with a class list (distill.teachers[k].classes, amalgamation) are
// first mapped into the student's classes (teacher_class_map.h). CE and the
// divergences run over distill.chunk_tokens rows at a time (logit_rows.h).
//
// The means divide by `denominator` when it is > 0, else by this batch's own
// count of rows: a worker passes (labelled rows of the global batch) /
// (workers x micro-batches), so that after the gradient average every row of
// the global batch weighs the same, whatever its worker's padding.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "proto/config.pb.h"
#include "trainer/distill/combiner.h"
#include "trainer/teachers/top_k.h"

namespace distill::kd {

struct LossBreakdown {
  torch::Tensor total;              // scalar, float32, differentiable w.r.t. the student
  double task = 0;                  // CE over counted rows / denominator (before task_weight)
  double kd = 0;                    // combined divergence over counted rows / denominator (before kd_weight)
  std::vector<double> teacher_kl;   // per teacher: divergence over counted rows / denominator
  std::vector<double> teacher_weight;  // per teacher: combiner weight over counted rows / denominator
  int64_t rows = 0;                 // rows counted (label != -100)
  torch::Tensor weights;            // [K,B] combiner weights used (no grad); undefined without teachers
};

// A teacher given as its top-k (placement cache or pool), one row per student row.
struct TopKTeacher {
  teachers::TopK rows;  // log_probs [B,k], indices [B,k], residual [B]
  int64_t vocab = 0;    // the vocabulary they are of (the student's C)
};

// student_logits [B,C]; teacher_logits K tensors [B,C] (K may be 0: task loss
// only); labels [B] int64 with -100 = not counted. An undefined `labels`
// tensor means unlabelled data: every row counts and the task term is 0.
// `combiner` may be null only when there are no teachers. When no row counts,
// total is a zero that still backpropagates (zero gradients), so every worker
// runs the same collectives. `extras` carries what the combiner asks for
// beyond the logits (teacher_passes for mc_dropout, in the teachers' own
// classes like teacher_logits); its labels default to `labels`.
//
// `top_k`, when not empty, has K entries: teacher k with top_k[k].rows defined
// is given as its top-k instead (teacher_logits[k] undefined) and its
// divergence is computed on the top-k, without dense logits; that needs a
// combiner that does not read the teachers' logits and no class list for it
// (stepLoss expands such a teacher's top-k to dense logits, needsDenseLogits).
LossBreakdown distillationLoss(const torch::Tensor& student_logits,
                               const std::vector<torch::Tensor>& teacher_logits,
                               const torch::Tensor& labels, const config::DistillSpec& spec,
                               const TeacherCombiner* combiner, const CombinerExtras* extras = nullptr,
                               double denominator = 0, const std::vector<TopKTeacher>& top_k = {});

}  // namespace distill::kd
