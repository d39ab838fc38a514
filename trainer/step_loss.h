// The loss of one training step, from the teachers' forward passes to the
// number backward() runs on (DESIGN.md section 3, "teachers" and "forward"):
// the logit KL combined per sample (distillation_loss.h), the intermediate
// terms with the same per-sample weights (intermediate_loss.h); and the
// student's per-sample entropy that data selection ranks on (sampleEntropy,
// computed only when selection is on: it is off the step's hot path otherwise).
//
//   kd::TeacherOutputs t = kd::runTeachers(teachers, batch, spec, combiner->stochasticPasses());
//   auto s = model::runModel(student, batch.input_ids, batch.attention_mask, "student");
//   kd::StepLoss loss = kd::stepLoss(s, batch, t, kd::specAtStep(spec, step, total), combiner.get(), projections);
//   loss.total.backward();
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "proto/config.pb.h"
#include "trainer/data/dataset.h"
#include "trainer/distill/combiner.h"
#include "trainer/distill/distillation_loss.h"
#include "trainer/distill/intermediate_loss.h"
#include "trainer/model/model_io.h"

namespace torch::jit {
struct Module;
}

namespace distill::kd {

// What the teachers said about one batch, in the teachers' own class spaces:
// their logits when they ran here, or their top-k when it was read from a cache
// or received from a teacher rank (then `logits` is empty; stepLoss works on
// the top-k directly where it can, else expands it, teachers/top_k.h).
struct TeacherOutputs {
  std::vector<torch::Tensor> logits;   // K x [R,Ck], eval mode (dropout off); empty when top_k is given
  std::vector<TopKTeacher> top_k;      // K, rows like logits'; empty when logits is given
  std::vector<LayerOutputs> layers;    // K, filled only when spec.terms is not empty
  std::vector<torch::Tensor> passes;   // K x [M,R,Ck] with dropout on; empty when passes <= 1
  std::vector<double> seconds;         // K: how long each teacher's outputs took
};

// Runs every teacher once in eval and inference mode, and `passes` more times
// in train mode (dropout on) when passes > 1 (the mc_dropout combiner). The
// teachers are left in eval mode. The outputs are returned as ordinary fp32
// tensors whatever dtype the teachers compute in (losses compare in fp32).
TeacherOutputs runTeachers(std::vector<torch::jit::Module>& teachers, const data::Batch& batch,
                           const config::DistillSpec& spec, int passes);

struct StepLoss {
  torch::Tensor total;            // scalar: logit part + intermediate terms
  LossBreakdown logits;           // task, kd, per-teacher KL and weights
  IntermediateBreakdown terms;    // per term and teacher
};

// `spec` is the step's (specAtStep); `projections` those createProjections made;
// `denominator`: what the logit means divide by (distillation_loss.h; 0: this batch's labelled rows).
// Teachers given as their top-k are expanded to dense logits only where
// needsDenseLogits says so.
StepLoss stepLoss(const model::ModelOutputs& student, const data::Batch& batch, const TeacherOutputs& teachers,
                  const config::DistillSpec& spec, const TeacherCombiner* combiner, const Projections& projections,
                  double denominator = 0);

// Whether the loss needs `teacher` (0-based) as dense logits when it comes as
// its top-k: when the combiner reads the teachers' logits, or the teacher has
// a class list (mapped into the student's classes as logits).
bool needsDenseLogits(const config::DistillSpec& spec, const TeacherCombiner* combiner, int teacher);

// How many teachers `t` holds outputs of.
size_t teacherCount(const TeacherOutputs& t);

// The rows the logit means count in `batch`: its labelled tokens (or samples).
int64_t countedRows(const data::Batch& batch);

// The loss values a step reports: with gradient accumulation, the mean over
// its micro-batches (add each with weight 1/K).
struct LossValues {
  double total = 0, task = 0, kd = 0;
  std::vector<double> teacher_kl, teacher_weight;  // per teacher
  std::vector<TermBreakdown> terms;                // per distill.terms entry
  void add(const StepLoss& part, double weight);
};

// `spec` with temperature and kd_weight at 0-based `step` of `total_steps`
// (distill.temperature_schedule, distill.kd_weight_schedule).
config::DistillSpec specAtStep(const config::DistillSpec& spec, int64_t step, int64_t total_steps);

// Entropy of softmax(logits) per sample: logits [B,C], or [B,T,V] averaged over
// the tokens whose label is not -100 (0 for a sample without any). [B] float32.
torch::Tensor sampleEntropy(const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace distill::kd
