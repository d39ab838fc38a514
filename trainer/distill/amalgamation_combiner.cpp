#include "trainer/distill/amalgamation_combiner.h"

#include <limits>

#include "common/error.h"
#include "trainer/distill/entropy.h"
#include "trainer/distill/task_loss.h"
#include "trainer/distill/teacher_class_map.h"

namespace distill::kd {

AmalgamationCombiner::AmalgamationCombiner(const config::DistillSpec& spec) : spec_(spec) {
  DISTILL_CHECK(spec.temperature() > 0, "distill.temperature must be > 0, got ", spec.temperature());
  DISTILL_CHECK(spec.confidence_temperature() > 0, "distill.confidence_temperature must be > 0, got ",
                spec.confidence_temperature());
}

torch::Tensor AmalgamationCombiner::weights(const std::vector<torch::Tensor>& teacher_logits,
                                            const torch::Tensor& student_logits) const {
  return weightsWith(teacher_logits, student_logits, CombinerExtras{});
}

torch::Tensor AmalgamationCombiner::weightsWith(const std::vector<torch::Tensor>& teacher_logits,
                                                const torch::Tensor& student_logits,
                                                const CombinerExtras& extras) const {
  DISTILL_CHECK(!teacher_logits.empty(), "amalgamation combiner: no teacher logits");
  DISTILL_CHECK(static_cast<int>(teacher_logits.size()) == spec_.teachers_size(), "amalgamation combiner: got ",
                teacher_logits.size(), " teacher outputs but distill.teachers lists ", spec_.teachers_size());
  torch::NoGradGuard no_grad;
  const int64_t batch = student_logits.size(0);
  const int64_t classes = student_logits.size(1);
  const torch::Device device = student_logits.device();

  const torch::Tensor labels = extras.labels.defined() ? extras.labels.to(device, torch::kLong)
                                                       : torch::full({batch}, kIgnoreLabel, torch::dtype(torch::kLong).device(device));
  DISTILL_CHECK(labels.dim() == 1 && labels.size(0) == batch, "amalgamation combiner: labels must be [", batch,
                "], got ", labels.sizes());
  const torch::Tensor labelled = labels >= 0;
  const torch::Tensor safe_labels = labels.clamp(0, classes - 1);  // unlabelled rows index class 0, then ignored

  std::vector<torch::Tensor> scores;
  for (size_t k = 0; k < teacher_logits.size(); ++k) {
    const torch::Tensor& t = teacher_logits[k];
    DISTILL_CHECK(t.dim() == 2 && t.size(0) == batch && t.size(1) == classes, "amalgamation combiner: teacher ", k,
                  " logits must be [", batch, ", ", classes, "] (in the student's classes), got ", t.sizes());
    const torch::Tensor covered = coveredClasses(spec_, static_cast<int>(k), classes, device);  // [C]
    const torch::Tensor covers = covered.index_select(0, safe_labels) | ~labelled;              // [B]
    const torch::Tensor confidence =
        -entropy(torch::softmax(t.to(torch::kFloat) / spec_.temperature(), /*dim=*/1), /*dim=*/1) /
        spec_.confidence_temperature();
    scores.push_back(torch::where(covers, confidence,
                                  torch::full_like(confidence, -std::numeric_limits<double>::infinity())));
  }
  const torch::Tensor s = torch::stack(scores);  // [K,B], -inf where a teacher does not cover the sample
  // A column of -inf (no teacher covers the label) would softmax to NaN: give it 0.
  const torch::Tensor any = s.isfinite().any(/*dim=*/0, /*keepdim=*/true);
  return torch::where(any, torch::softmax(s, /*dim=*/0), torch::zeros_like(s));
}

}  // namespace distill::kd
