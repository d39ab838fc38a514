// Amalgamation: teacher logits mapped into the student's classes as configured.
#include <cmath>
#include <functional>
#include <limits>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/teacher_class_map.h"

namespace distill::kd {
namespace {

const double kInf = std::numeric_limits<double>::infinity();

TEST(TeacherClassMap, PlacesTeacherClassesAndFillsTheRestWithMinusInfinity) {
  // teacher classes [a, b] -> student classes [2, 0]: student row [b, -inf, a, -inf]
  torch::Tensor t = torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kFloat).reshape({2, 2}).requires_grad_();
  const torch::Tensor s = toStudentClasses(t, {2, 0}, 4, "distill.teachers[0]");
  const torch::Tensor expected = torch::tensor({2.0, -kInf, 1.0, -kInf, 4.0, -kInf, 3.0, -kInf}, torch::kFloat).reshape({2, 4});
  EXPECT_TRUE(torch::equal(s, expected)) << s;
  // Any leading dimensions (MC-dropout passes [M,B,Ck]).
  EXPECT_EQ(toStudentClasses(torch::zeros({3, 2, 2}), {2, 0}, 4, "f").sizes(), torch::IntArrayRef({3, 2, 4}));
  // The copy is differentiable: the gradient goes back to the mapped columns.
  (s.index({torch::indexing::Slice(), torch::tensor({0, 2})}).sum()).backward();
  EXPECT_TRUE(torch::equal(t.grad(), torch::ones({2, 2})));
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(TeacherClassMap, MistakesNameTheField) {
  const torch::Tensor t = torch::zeros({1, 2});
  EXPECT_EQ(errorOf([&] { toStudentClasses(t, {0, 1, 2}, 4, "distill.teachers[1]"); }),
            "distill.teachers[1].classes: lists 3 student classes but the teacher outputs 2; list one per teacher output");
  EXPECT_EQ(errorOf([&] { toStudentClasses(t, {0, 7}, 4, "distill.teachers[1]"); }),
            "distill.teachers[1].classes[1]: 7 is out of range (student has 4 classes)");
  EXPECT_EQ(errorOf([&] { toStudentClasses(t, {3, 3}, 4, "distill.teachers[1]"); }),
            "distill.teachers[1].classes[1]: student class 3 is listed twice");
}

TEST(TeacherClassMap, CoverageAndWholeTeacherLists) {
  config::DistillSpec spec;
  spec.add_teachers()->add_classes(2);
  spec.mutable_teachers(0)->add_classes(0);
  spec.add_teachers();  // no list: the student's classes, in order
  EXPECT_TRUE(torch::equal(coveredClasses(spec, 0, 4, torch::kCPU), torch::tensor({true, false, true, false})));
  EXPECT_TRUE(torch::equal(coveredClasses(spec, 1, 4, torch::kCPU), torch::ones({4}, torch::kBool)));

  const std::vector<torch::Tensor> mapped =
      teachersInStudentClasses({torch::tensor({5.0, 6.0}).reshape({1, 2}), torch::zeros({1, 4})}, spec, 4);
  EXPECT_TRUE(torch::equal(mapped[0], torch::tensor({6.0, -kInf, 5.0, -kInf}).reshape({1, 4})));
  EXPECT_TRUE(torch::equal(mapped[1], torch::zeros({1, 4})));
}

}  // namespace
}  // namespace distill::kd
