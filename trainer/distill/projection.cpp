#include "trainer/distill/projection.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "common/error.h"

namespace distill::kd {
namespace {

// FNV-1a: a stable hash of the name (std::hash may differ between builds).
uint64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

std::string projectionName(const std::string& term, const std::string& teacher, int64_t student_layer) {
  return std::string(kProjectionPrefix) + term + "/" + teacher + "/" +
         (student_layer < 0 ? std::string("embeddings") : std::to_string(student_layer));
}

torch::Tensor initProjection(int64_t teacher_width, int64_t student_width, uint64_t seed, const std::string& name) {
  DISTILL_CHECK(teacher_width >= 1 && student_width >= 1, "projection ", name, ": widths must be >= 1, got [",
                teacher_width, ", ", student_width, "]");
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed ^ fnv1a(name));
  const double bound = 1.0 / std::sqrt(static_cast<double>(student_width));
  torch::Tensor w = torch::empty({teacher_width, student_width}, torch::kFloat).uniform_(-bound, bound, generator);
  return w.set_requires_grad(true);
}

torch::Tensor applyProjection(const torch::Tensor& x, const torch::Tensor& projection, int64_t teacher_width,
                              const std::string& term) {
  if (!projection.defined()) {
    DISTILL_CHECK(x.size(-1) == teacher_width, term, ": the student is ", x.size(-1), " wide and the teacher ",
                  teacher_width, "; a projection is needed (kd::createProjections makes one per pair of widths "
                  "that differ)");
    return x.to(torch::kFloat);
  }
  DISTILL_CHECK(projection.dim() == 2 && projection.size(0) == teacher_width && projection.size(1) == x.size(-1),
                term, ": projection ", projection.sizes(), " does not map the student's width ", x.size(-1),
                " to the teacher's ", teacher_width);
  return torch::matmul(x.to(torch::kFloat), projection.t());
}

}  // namespace distill::kd
