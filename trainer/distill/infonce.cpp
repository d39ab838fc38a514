#include "trainer/distill/infonce.h"

#include "common/error.h"
#include "trainer/distill/projection.h"

namespace distill::kd {

torch::Tensor infoNCE(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& projection,
                      double temperature) {
  DISTILL_CHECK(temperature > 0, "infonce: temperature must be > 0, got ", temperature);
  DISTILL_CHECK(student.dim() == 2 && teacher.dim() == 2 && student.size(0) == teacher.size(0),
                "infonce: student ", student.sizes(), " and teacher ", teacher.sizes(),
                " must be [batch, width] with the same batch");
  namespace F = torch::nn::functional;
  const auto unit = F::NormalizeFuncOptions().dim(1).eps(1e-12);
  const torch::Tensor s = F::normalize(applyProjection(student, projection, teacher.size(1), "infonce"), unit);
  const torch::Tensor t = F::normalize(teacher.detach().to(torch::kFloat), unit);
  const torch::Tensor logits = torch::matmul(s, t.t()) / temperature;  // [B,B]
  return torch::logsumexp(logits, /*dim=*/1) - logits.diagonal();
}

}  // namespace distill::kd
