// The intermediate distillation terms of one step (distill.terms): hidden
// states, embeddings, attention maps and representations, each computed per
// sample against every teacher and combined with the combiner's weights.
//
//   // once, after a first forward tells the shapes:
//   kd::Projections projections = kd::createProjections(spec, kd::shapeOf(s, "student"), teacher_shapes,
//                                                       job.seed(), device);   // train these with the student
//   // every step:
//   kd::LossBreakdown logits = kd::distillationLoss(...);                        // logits.weights [K,B]
//   kd::IntermediateBreakdown inter = kd::intermediateLoss(spec, {s.hidden_states, s.attentions}, teachers,
//                                                          mask, logits.weights, projections);
//   (logits.total + inter.total).backward();
//
//   total = sum_i weight_i * mean_b sum_k w_kb * mean_(pairs of term i) loss_ikb
//
// where b runs over the samples with at least one real token. Terms are not
// scaled by kd_weight: each has its own weight.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "proto/config.pb.h"
#include "trainer/distill/layer_outputs.h"
#include "trainer/distill/projection.h"

namespace distill::kd {

struct TermBreakdown {
  std::string name;                 // distill.terms[i].name
  double value = 0;                 // mean_b sum_k w_kb term_kb (before the term's weight)
  std::vector<double> per_teacher;  // per teacher: mean_b term_kb, unweighted
};

struct IntermediateBreakdown {
  torch::Tensor total;              // scalar float32, differentiable w.r.t. the student and the projections
  std::vector<TermBreakdown> terms;
};

// One projection per (term that projects, teacher, student layer of its
// pairs) whose widths differ, named projectionName(term.name, teacher name,
// layer), initialised by initProjection(seed) and moved to `device` as a leaf
// with requires_grad. `teachers[k]` is the shape of teacher k
// (spec.teachers(k)); layer ranges are checked as in layerPairs.
Projections createProjections(const config::DistillSpec& spec, const ModelShape& student,
                              const std::vector<ModelShape>& teachers, uint64_t seed,
                              const torch::Device& device = torch::kCPU);

// All of spec.terms on one batch: `student` and `teachers` (K of them, in
// spec.teachers order) are the forward outputs, attention_mask [B,T],
// weights [K,B] (a column may be all 0: that sample learns nothing from the
// teachers here). No terms: total is a zero without grad. Throws
// distill::Error naming the term and model when an output a term needs is
// missing or a projection is.
IntermediateBreakdown intermediateLoss(const config::DistillSpec& spec, const LayerOutputs& student,
                                       const std::vector<LayerOutputs>& teachers,
                                       const torch::Tensor& attention_mask, const torch::Tensor& weights,
                                       const Projections& projections);

// Per-sample weights [K,B] from per-row ones [K,R] when the rows are tokens
// (language-model data, R = B*T): the mean over each sample's counted rows
// (counted_rows [R], non-zero = counted). A sample without counted rows gets 0.
torch::Tensor weightsPerSample(const torch::Tensor& row_weights, const torch::Tensor& counted_rows, int64_t batch);

}  // namespace distill::kd
