// Reverse KL, KL(q || p): the student is penalised for mass where the teacher
// has little, so it concentrates on the teacher's modes (MiniLLM, Gu et al.,
// 2024). Infinite where the teacher gives probability 0 to a token the student
// does not: config checks refuse it for teachers with a class list.
#include "trainer/distill/divergence.h"

namespace distill::kd {

torch::Tensor reverseKL(const torch::Tensor& log_q, const torch::Tensor& log_p) { return klFromLogProbs(log_q, log_p); }

torch::Tensor reverseKLGradientTerms(const torch::Tensor& log_q, const torch::Tensor& log_p) {
  return qTimes(log_q, log_q - log_p + 1);
}

}  // namespace distill::kd
