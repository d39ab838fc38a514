// The `amalgamation` combiner (knowledge amalgamation): teachers that each
// know a subset of the student's classes (distill.teachers[k].classes, see
// teacher_class_map.h). A labelled sample is taught by the teachers that
// cover its label, weighted by their confidence among themselves:
//
//   covers_kb = y_b in classes_k                 (labelled: y_b != -100)
//             = 1                                (no label: every teacher may teach)
//   w_kb = covers_kb exp(-H_kb / tau) / sum_j covers_jb exp(-H_jb / tau)
//   H_kb = entropy of softmax(t_kb / T) over teacher k's own classes
//
// T = distill.temperature, tau = distill.confidence_temperature. A sample
// whose label no teacher covers gets w = 0 for every teacher (its column sums
// to 0), so its distillation terms are 0 and only the task loss teaches it.
//
//   distill:
//     combiner: amalgamation
//     teachers:
//       - {path: animals.pt, classes: [0, 2]}
//       - {path: vehicles.pt, classes: [1, 3, 4]}
//
// "Covers" uses the label because it is known in training and is the only
// signal that does not depend on a teacher's own (possibly overconfident)
// opinion of data outside its classes. Unlabelled samples fall back to
// confidence among all teachers.
#pragma once

#include "trainer/distill/combiner.h"

namespace distill::kd {

class AmalgamationCombiner : public TeacherCombiner {
 public:
  // Throws distill::Error unless both temperatures are > 0.
  explicit AmalgamationCombiner(const config::DistillSpec& spec);
  std::string name() const override { return "amalgamation"; }
  // Without labels: every teacher may teach every sample.
  torch::Tensor weights(const std::vector<torch::Tensor>& teacher_logits,
                        const torch::Tensor& student_logits) const override;
  // teacher_logits in the student's class space (teachersInStudentClasses);
  // extras.labels [B] decides which teachers cover a sample.
  torch::Tensor weightsWith(const std::vector<torch::Tensor>& teacher_logits, const torch::Tensor& student_logits,
                            const CombinerExtras& extras) const override;

 private:
  config::DistillSpec spec_;
};

}  // namespace distill::kd
