#include "trainer/distill/distillation_loss.h"

#include "common/error.h"
#include "trainer/distill/divergence.h"
#include "trainer/distill/logit_rows.h"
#include "trainer/distill/task_loss.h"
#include "trainer/distill/teacher_class_map.h"

namespace distill::kd {

LossBreakdown distillationLoss(const torch::Tensor& student_logits,
                               const std::vector<torch::Tensor>& teacher_logits,
                               const torch::Tensor& labels, const config::DistillSpec& spec,
                               const TeacherCombiner* combiner, const CombinerExtras* extras, double denominator,
                               const std::vector<TopKTeacher>& top_k) {
  DISTILL_CHECK(student_logits.dim() == 2, "distillation loss: student logits must be [rows, classes], got ",
                student_logits.sizes());
  const bool labelled = labels.defined();
  const auto teachers = static_cast<int64_t>(teacher_logits.size());
  DISTILL_CHECK(teachers == 0 || combiner != nullptr, "distillation loss: ", teachers,
                " teachers but no combiner");

  // counted: 1 for rows that enter the means, 0 for label -100.
  const torch::Tensor counted =
      labelled ? (labels != kIgnoreLabel).to(torch::kFloat)
               : torch::ones({student_logits.size(0)}, student_logits.options().dtype(torch::kFloat));
  // clamp: an all-ignored batch gives 0/1 = 0 instead of 0/0 = NaN.
  const torch::Tensor rows_counted =
      denominator > 0 ? torch::full({}, denominator, counted.options()) : counted.sum().clamp_min(1.0);

  DISTILL_CHECK(top_k.empty() || static_cast<int64_t>(top_k.size()) == teachers, "distillation loss: ", top_k.size(),
                " top-k teachers for ", teachers, " teachers");
  for (size_t k = 0; k < top_k.size(); ++k) {
    if (!top_k[k].rows.log_probs.defined()) continue;
    DISTILL_CHECK(!combiner->readsTeacherLogits(), "distillation loss: combiner '", combiner->name(),
                  "' reads the teachers' logits; teacher ", k, " is given as its top-k only");
    DISTILL_CHECK(static_cast<int>(k) >= spec.teachers_size() || spec.teachers(static_cast<int>(k)).classes_size() == 0,
                  "distillation loss: teacher ", k, " has a class list and is given as its top-k only");
  }

  const int64_t classes = student_logits.size(1);
  const std::vector<torch::Tensor> mapped =
      teachers > 0 ? teachersInStudentClasses(teacher_logits, spec, classes) : std::vector<torch::Tensor>{};
  // Row values, chunk by chunk: the task CE (value 0, when labelled), then one divergence per teacher.
  std::vector<LogitTerm> terms;
  if (labelled) terms.push_back(LogitTerm::crossEntropy(labels));
  for (int64_t k = 0; k < teachers; ++k) {
    const auto i = static_cast<size_t>(k);
    const bool given_as_top_k = !top_k.empty() && top_k[i].rows.log_probs.defined();
    terms.push_back(given_as_top_k ? LogitTerm::topK(top_k[i].rows, top_k[i].vocab) : LogitTerm::dense(mapped[i]));
  }
  const torch::Tensor row_values =
      terms.empty() ? torch::Tensor() : logitRows(student_logits, terms, divergenceOf(spec), spec.chunk_tokens());

  torch::Tensor task = torch::zeros({}, counted.options());
  if (labelled) task = (row_values[0] * counted).sum() / rows_counted;
  torch::Tensor total = spec.task_weight() * task;

  std::vector<torch::Tensor> stats = {task.detach()};
  torch::Tensor weights;
  if (teachers > 0) {
    CombinerExtras combiner_extras = extras ? *extras : CombinerExtras{};
    combiner_extras.teacher_passes = teachersInStudentClasses(combiner_extras.teacher_passes, spec, classes);
    if (!combiner_extras.labels.defined()) combiner_extras.labels = labels;
    weights = combiner->weightsWith(mapped, student_logits.detach(), combiner_extras);
    DISTILL_CHECK(weights.dim() == 2 && weights.size(0) == teachers &&
                      weights.size(1) == student_logits.size(0),
                  "combiner '", combiner->name(), "' returned weights ", weights.sizes(),
                  ", expected [", teachers, ", ", student_logits.size(0), "]");
    const torch::Tensor kl = row_values.slice(0, labelled ? 1 : 0);  // [K,B]
    const torch::Tensor kd = ((weights * kl).sum(/*dim=*/0) * counted).sum() / rows_counted;
    total = total + spec.kd_weight() * kd;
    stats.push_back(kd.detach());
    stats.push_back((kl.detach() * counted).sum(/*dim=*/1) / rows_counted);       // [K]
    stats.push_back((weights.detach() * counted).sum(/*dim=*/1) / rows_counted);  // [K]
  }

  // Unlabelled data without teachers leaves nothing that depends on the
  // student; keep total differentiable so backward() (and the gradient
  // all-reduce it triggers) runs the same on every worker.
  if (!total.requires_grad() && student_logits.requires_grad()) {
    total = total + student_logits.to(torch::kFloat).sum() * 0.0;
  }

  // One device-to-host copy for every reported number.
  std::vector<torch::Tensor> flat;
  for (const torch::Tensor& s : stats) flat.push_back(s.reshape({-1}).to(torch::kDouble));
  flat.push_back(counted.sum().reshape({1}).to(torch::kDouble));
  const torch::Tensor host = torch::cat(flat).to(torch::kCPU);
  const double* v = host.data_ptr<double>();

  LossBreakdown out;
  out.total = total;
  out.task = v[0];
  if (teachers > 0) {
    out.kd = v[1];
    out.teacher_kl.assign(v + 2, v + 2 + teachers);
    out.teacher_weight.assign(v + 2 + teachers, v + 2 + 2 * teachers);
  }
  out.rows = static_cast<int64_t>(v[host.numel() - 1]);
  out.weights = weights;
  return out;
}

}  // namespace distill::kd
