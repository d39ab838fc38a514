#include "trainer/step_loss.h"

#include <torch/cuda.h>
#include <torch/script.h>

#include "common/clock.h"
#include "common/error.h"
#include "trainer/distill/entropy.h"
#include "trainer/distill/task_loss.h"
#include "trainer/distill/value_schedule.h"
#include "trainer/rows.h"

namespace distill::kd {

namespace {

// A teacher's output as an ordinary fp32 tensor: made outside inference mode,
// so the loss may save it for backward, and in fp32, so losses compare in fp32
// whatever precision the teacher ran in.
torch::Tensor asLossInput(const torch::Tensor& t) {
  if (!t.defined()) return t;
  return t.scalar_type() == torch::kFloat ? t.clone() : t.to(torch::kFloat);
}

}  // namespace

bool needsDenseLogits(const config::DistillSpec& spec, const TeacherCombiner* combiner, int teacher) {
  if (combiner == nullptr || combiner->readsTeacherLogits()) return true;
  return teacher < spec.teachers_size() && spec.teachers(teacher).classes_size() > 0;
}

size_t teacherCount(const TeacherOutputs& t) { return t.top_k.empty() ? t.logits.size() : t.top_k.size(); }

TeacherOutputs runTeachers(std::vector<torch::jit::Module>& teachers, const data::Batch& batch,
                           const config::DistillSpec& spec, int passes) {
  TeacherOutputs raw;
  const bool layers = spec.terms_size() > 0;
  {
    // Inference mode: no autograd bookkeeping at all (no version counters, no views tracked).
    c10::InferenceMode inference;
    for (size_t k = 0; k < teachers.size(); ++k) {
      const double started = clock::monotonicSeconds();
      const std::string name = "teacher '" + spec.teachers(static_cast<int>(k)).name() + "'";
      const auto o = model::runModel(teachers[k], batch.input_ids, batch.attention_mask, name);
      raw.logits.push_back(trainer::logitRows(o.logits));
      if (layers) raw.layers.push_back({o.hidden_states, o.attentions});
      if (passes > 1) {
        // Dropout on: the spread of these passes is the teacher's uncertainty (mc_dropout).
        teachers[k].train();
        std::vector<torch::Tensor> stochastic;
        for (int m = 0; m < passes; ++m) {
          stochastic.push_back(trainer::logitRows(
              model::runModel(teachers[k], batch.input_ids, batch.attention_mask, name).logits));
        }
        teachers[k].eval();
        raw.passes.push_back(torch::stack(stochastic));
      }
      if (o.logits.is_cuda()) torch::cuda::synchronize();  // the forward's time, not its launch's
      raw.seconds.push_back(clock::monotonicSeconds() - started);
    }
  }
  TeacherOutputs out;
  for (const auto& t : raw.logits) out.logits.push_back(asLossInput(t));
  for (const auto& l : raw.layers) out.layers.push_back({asLossInput(l.hidden_states), asLossInput(l.attentions)});
  for (const auto& t : raw.passes) out.passes.push_back(asLossInput(t));
  out.seconds = raw.seconds;
  return out;
}

StepLoss stepLoss(const model::ModelOutputs& student, const data::Batch& batch, const TeacherOutputs& teachers,
                  const config::DistillSpec& spec, const TeacherCombiner* combiner, const Projections& projections,
                  double denominator) {
  const trainer::Rows rows = trainer::toRows(student.logits, batch.labels);
  CombinerExtras extras;
  extras.teacher_passes = teachers.passes;
  StepLoss out;
  if (teachers.top_k.empty()) {
    out.logits = distillationLoss(rows.logits, teachers.logits, rows.labels, spec, combiner, &extras, denominator);
  } else {  // each teacher as its top-k, or expanded where the loss needs its logits
    std::vector<torch::Tensor> dense(teachers.top_k.size());
    std::vector<TopKTeacher> direct(teachers.top_k.size());
    for (size_t k = 0; k < teachers.top_k.size(); ++k) {
      const TopKTeacher& t = teachers.top_k[k];
      if (needsDenseLogits(spec, combiner, static_cast<int>(k))) {
        dense[k] = teachers::denseLogits(t.rows, t.vocab);
      } else {
        direct[k] = t;
      }
    }
    out.logits = distillationLoss(rows.logits, dense, rows.labels, spec, combiner, &extras, denominator, direct);
  }
  out.total = out.logits.total;
  if (spec.terms_size() > 0 && teacherCount(teachers) > 0) {
    const int64_t batch_size = batch.input_ids.size(0);
    // Per-token rows (language modeling): a sample's weight is its tokens' mean.
    const torch::Tensor weights = student.logits.dim() == 2
                                      ? out.logits.weights
                                      : weightsPerSample(out.logits.weights, rows.labels != kIgnoreLabel, batch_size);
    out.terms = intermediateLoss(spec, {student.hidden_states, student.attentions}, teachers.layers,
                                 batch.attention_mask, weights, projections);
    out.total = out.total + out.terms.total;
  }
  return out;
}

int64_t countedRows(const data::Batch& batch) { return (batch.labels != kIgnoreLabel).sum().item<int64_t>(); }

void LossValues::add(const StepLoss& part, double weight) {
  const LossBreakdown& l = part.logits;
  total += weight * part.total.item<double>();
  task += weight * l.task;
  kd += weight * l.kd;
  teacher_kl.resize(l.teacher_kl.size(), 0.0);
  teacher_weight.resize(l.teacher_weight.size(), 0.0);
  for (size_t k = 0; k < l.teacher_kl.size(); ++k) teacher_kl[k] += weight * l.teacher_kl[k];
  for (size_t k = 0; k < l.teacher_weight.size(); ++k) teacher_weight[k] += weight * l.teacher_weight[k];
  if (terms.empty()) {
    for (const auto& t : part.terms.terms) terms.push_back({t.name, 0.0, std::vector<double>(t.per_teacher.size(), 0.0)});
  }
  for (size_t i = 0; i < part.terms.terms.size() && i < terms.size(); ++i) {
    const auto& t = part.terms.terms[i];
    terms[i].value += weight * t.value;
    for (size_t k = 0; k < t.per_teacher.size() && k < terms[i].per_teacher.size(); ++k) {
      terms[i].per_teacher[k] += weight * t.per_teacher[k];
    }
  }
}

config::DistillSpec specAtStep(const config::DistillSpec& spec, int64_t step, int64_t total_steps) {
  config::DistillSpec at = spec;
  at.set_temperature(scheduledValue(spec.temperature_schedule(), spec.temperature(), step, total_steps));
  at.set_kd_weight(scheduledValue(spec.kd_weight_schedule(), spec.kd_weight(), step, total_steps));
  return at;
}

torch::Tensor sampleEntropy(const torch::Tensor& logits, const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  const torch::Tensor h = entropy(torch::softmax(logits.detach().to(torch::kFloat), /*dim=*/-1), /*dim=*/-1);
  if (logits.dim() == 2) return h.to(torch::kCPU);
  DISTILL_CHECK(logits.dim() == 3, "sample entropy: logits must be [B,C] or [B,T,V], got ", logits.sizes());
  // Unlabelled language-model data: every token counts.
  const torch::Tensor counted =
      labels.defined() ? (labels != kIgnoreLabel).to(torch::kFloat) : torch::ones_like(h);  // [B,T]
  return ((h * counted).sum(/*dim=*/1) / counted.sum(/*dim=*/1).clamp_min(1.0)).to(torch::kCPU);
}

}  // namespace distill::kd
