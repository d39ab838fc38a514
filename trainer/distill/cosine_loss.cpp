#include "trainer/distill/cosine_loss.h"

#include "common/error.h"
#include "trainer/distill/projection.h"

namespace distill::kd {

torch::Tensor cosineLoss(const torch::Tensor& student, const torch::Tensor& teacher, const torch::Tensor& projection) {
  DISTILL_CHECK(student.dim() == 2 && teacher.dim() == 2 && student.size(0) == teacher.size(0),
                "cosine: student ", student.sizes(), " and teacher ", teacher.sizes(),
                " must be [batch, width] with the same batch");
  namespace F = torch::nn::functional;
  const auto unit = F::NormalizeFuncOptions().dim(1).eps(1e-12);
  const torch::Tensor s = F::normalize(applyProjection(student, projection, teacher.size(1), "cosine"), unit);
  const torch::Tensor t = F::normalize(teacher.detach().to(torch::kFloat), unit);
  return 1.0 - (s * t).sum(/*dim=*/1);
}

}  // namespace distill::kd
