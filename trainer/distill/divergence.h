// The divergence between a teacher's and the student's softened distributions,
// per row, as language-model distillation uses them (distill.divergence):
//
//   forward_kl        KL(p || q)                            Hinton et al. 2015: mass-covering
//   reverse_kl        KL(q || p)                            MiniLLM: mode-seeking
//   jsd               beta KL(p || m) + (1-beta) KL(q || m),  m = beta p + (1-beta) q
//                     (generalized JSD, GKD; beta 0 -> forward_kl and beta 1 ->
//                     reverse_kl, the limits of jsd/beta and jsd/(1-beta))
//   skew_kl           KL(p || alpha p + (1-alpha) q)         DistiLLM
//   skew_reverse_kl   KL(q || alpha q + (1-alpha) p)         DistiLLM
//   tvd               1/2 sum |p - q|                       total variation
//
// p = softmax(teacher / T), q = softmax(student / T); every value is scaled by
// T^2 (so kd_weight need not be retuned with the temperature), in float32,
// differentiable with respect to the student only. A teacher logit of -inf (a
// class the teacher does not know) is a probability of exactly 0.
//
//   kd::Divergence d = kd::divergenceOf(job.distill());
//   torch::Tensor per_row = kd::divergenceRows(student_logits, teacher_logits, d);  // [R]
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "proto/config.pb.h"

namespace distill::kd {

struct Divergence {
  std::string name = "forward_kl";
  double temperature = 1.0;
  double beta = 0.5;   // jsd
  double alpha = 0.1;  // skew_kl, skew_reverse_kl
};

// The names distill.divergence accepts.
const std::vector<std::string>& divergenceNames();

// distill.divergence, beta, alpha and temperature (the step's, after its schedule).
Divergence divergenceOf(const config::DistillSpec& spec);

// Student and teacher logits [R,C] -> [R]. Throws distill::Error on an unknown
// name, a bad parameter or mismatched shapes.
torch::Tensor divergenceRows(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                             const Divergence& divergence);

// Throws distill::Error unless both are [R, C] of the same shape, naming both.
void checkTeacherLogits(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits);

// The divergence `d` names, unscaled (no temperature, no T^2), on
// log-probabilities as below: log_q [R,C] of the student, log_p of the teacher
// (any shape that broadcasts to log_q's) -> [R]. divergenceRows is this on the
// softened distributions, times T^2.
torch::Tensor divergenceOfLogProbs(const torch::Tensor& log_q, const torch::Tensor& log_p, const Divergence& d);

// The divergences themselves, on log-probabilities [R,C] (student log_q with
// gradient, teacher log_p detached; -inf where a probability is 0) -> [R],
// unscaled. Each is a sum over the last dimension of a term of (p_c, q_c)
// alone, which top_k_divergence.h relies on. One file each: forward_kl.cpp, reverse_kl.cpp, jsd.cpp, skew_kl.cpp,
// skew_reverse_kl.cpp, tvd.cpp.
torch::Tensor forwardKL(const torch::Tensor& log_q, const torch::Tensor& log_p);
torch::Tensor reverseKL(const torch::Tensor& log_q, const torch::Tensor& log_p);
torch::Tensor generalizedJSD(const torch::Tensor& log_q, const torch::Tensor& log_p, double beta);
torch::Tensor skewKL(const torch::Tensor& log_q, const torch::Tensor& log_p, double alpha);
torch::Tensor skewReverseKL(const torch::Tensor& log_q, const torch::Tensor& log_p, double alpha);
torch::Tensor totalVariation(const torch::Tensor& log_q, const torch::Tensor& log_p);

// The gradients in closed form (logit_rows.h differentiates with them, not with
// autograd). Each divergence is D = sum_c g(p_c, q_c); its gradient term is
// h_c = q_c dg/dq_c, elementwise [R, C] on the arguments of the value (log_p
// broadcasts), 0 where q_c is 0. Through the softmax q = softmax(z):
//
//   dD/dz_c = h_c - q_c sum_c' h_c'
//
//   forward_kl        -p                          reverse_kl   q (log q - log p + 1)
//   jsd               (1 - beta) q log(q / m)     skew_kl      -(1 - alpha) p q / m
//   skew_reverse_kl   q (log(q / m) + 1) - alpha q^2 / m       tvd    q sign(q - p) / 2
torch::Tensor divergenceGradientTerms(const torch::Tensor& log_q, const torch::Tensor& log_p, const Divergence& d);
torch::Tensor forwardKLGradientTerms(const torch::Tensor& log_q, const torch::Tensor& log_p);
torch::Tensor reverseKLGradientTerms(const torch::Tensor& log_q, const torch::Tensor& log_p);
torch::Tensor generalizedJSDGradientTerms(const torch::Tensor& log_q, const torch::Tensor& log_p, double beta);
torch::Tensor skewKLGradientTerms(const torch::Tensor& log_q, const torch::Tensor& log_p, double alpha);
torch::Tensor skewReverseKLGradientTerms(const torch::Tensor& log_q, const torch::Tensor& log_p, double alpha);
torch::Tensor totalVariationGradientTerms(const torch::Tensor& log_q, const torch::Tensor& log_p);

// sum_c a_c (log a_c - log b_c) per row with 0 log 0 = 0: the KL(a || b) every divergence above builds on.
torch::Tensor klFromLogProbs(const torch::Tensor& log_a, const torch::Tensor& log_b);

// q x elementwise, 0 where q = exp(log_q) is 0 (where x may be -inf or NaN): the gradient terms' guard.
torch::Tensor qTimes(const torch::Tensor& log_q, const torch::Tensor& x);

// log(w_a * exp(log_a) + w_b * exp(log_b)), stable: the log of a mixture of two distributions.
torch::Tensor logMixture(const torch::Tensor& log_a, double w_a, const torch::Tensor& log_b, double w_b);

}  // namespace distill::kd
