#include "trainer/distill/teacher_class_map.h"

#include <algorithm>
#include <limits>

#include "common/error.h"

namespace distill::kd {
namespace {

std::vector<int64_t> classList(const config::TeacherSpec& teacher) {
  return {teacher.classes().begin(), teacher.classes().end()};
}

}  // namespace

torch::Tensor toStudentClasses(const torch::Tensor& teacher_logits, const std::vector<int64_t>& classes,
                               int64_t student_classes, const std::string& field) {
  DISTILL_CHECK(teacher_logits.dim() >= 1 && teacher_logits.size(-1) == static_cast<int64_t>(classes.size()),
                field, ".classes: lists ", classes.size(), " student classes but the teacher outputs ",
                teacher_logits.dim() >= 1 ? teacher_logits.size(-1) : 0, "; list one per teacher output");
  std::vector<bool> seen(static_cast<size_t>(std::max<int64_t>(student_classes, 0)), false);
  for (size_t j = 0; j < classes.size(); ++j) {
    const int64_t c = classes[j];
    DISTILL_CHECK(c >= 0 && c < student_classes, field, ".classes[", j, "]: ", c,
                  " is out of range (student has ", student_classes, " classes)");
    DISTILL_CHECK(!seen[static_cast<size_t>(c)], field, ".classes[", j, "]: student class ", c, " is listed twice");
    seen[static_cast<size_t>(c)] = true;
  }
  std::vector<int64_t> shape = teacher_logits.sizes().vec();
  shape.back() = student_classes;
  const torch::Tensor index =
      torch::tensor(classes, torch::kLong).to(teacher_logits.device());
  return torch::full(shape, -std::numeric_limits<double>::infinity(), teacher_logits.options())
      .index_copy(teacher_logits.dim() - 1, index, teacher_logits);
}

torch::Tensor coveredClasses(const config::DistillSpec& spec, int k, int64_t student_classes,
                             const torch::Device& device) {
  DISTILL_ASSERT(k >= 0 && k < spec.teachers_size());
  const config::TeacherSpec& teacher = spec.teachers(k);
  if (teacher.classes_size() == 0) return torch::ones({student_classes}, torch::dtype(torch::kBool).device(device));
  torch::Tensor covered = torch::zeros({student_classes}, torch::kBool);
  for (uint32_t c : teacher.classes()) {
    DISTILL_CHECK(c < student_classes, "distill.teachers[", k, "].classes: ", c, " is out of range (student has ",
                  student_classes, " classes)");
    covered[c] = true;
  }
  return covered.to(device);
}

std::vector<torch::Tensor> teachersInStudentClasses(const std::vector<torch::Tensor>& teacher_logits,
                                                    const config::DistillSpec& spec, int64_t student_classes) {
  std::vector<torch::Tensor> out;
  out.reserve(teacher_logits.size());
  for (size_t k = 0; k < teacher_logits.size(); ++k) {
    const int ki = static_cast<int>(k);
    if (ki < spec.teachers_size() && spec.teachers(ki).classes_size() > 0) {
      out.push_back(toStudentClasses(teacher_logits[k], classList(spec.teachers(ki)), student_classes,
                                     "distill.teachers[" + std::to_string(k) + "]"));
    } else {
      out.push_back(teacher_logits[k]);
    }
  }
  return out;
}

}  // namespace distill::kd
