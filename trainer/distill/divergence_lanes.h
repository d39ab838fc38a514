// The divergences of divergence.h term by term, on eight tokens at a time, for
// the fused row kernels (logit_row_kernel.h). Each divergence is
// D = sum_c g(p_c, q_c); here value() is g and grad() its gradient term
// h = q dg/dq, on log_q, q = exp(log_q) and log_p of eight tokens, with the
// same guards as the tensor forms in forward_kl.cpp ... tvd.cpp (0 where the
// probability that multiplies is 0). Those tensor forms are the reference the
// tests hold these to.
#pragma once

#include <cmath>

#include "trainer/distill/simd_math.h"

namespace distill::kd::lanes {

using simd::Vec;

// The student's row moments a closed-form tail reads: sum_c q_c log q_c and sum_c log q_c.
struct RowMoments {
  float q_log_q = 0, log_q_sum = 0;
};

// The gradient terms of every closed-form tail of a row, summed with their upstream weights:
// W_c = q_c (a log q_c + b) + g on every token c (before the top-k corrections).
struct TailGradient {
  float a = 0, b = 0, g = 0;
};

// kClosedTail: against a constant p (a top-k teacher's tail) the divergence sums over the row in
// closed form from RowMoments (tailValue), and its gradient terms are a TailGradient (addTail), so
// the fused kernel makes no pass over the row per teacher. The others keep one pass per teacher.

struct ForwardKL {  // g = p log(p / q), h = -p
  DISTILL_AVX2 Vec value(Vec log_q, Vec, Vec log_p) const {
    const Vec p = simd::exp(log_p);
    return simd::select(simd::positive(p), _mm256_mul_ps(p, _mm256_sub_ps(log_p, log_q)), simd::zero());
  }
  DISTILL_AVX2 Vec grad(Vec, Vec, Vec log_p) const { return _mm256_sub_ps(simd::zero(), simd::exp(log_p)); }
  static constexpr bool kClosedTail = true;
  // sum_c p (log p - log q_c) = p (V log p - sum_c log q_c); 0 where p is (as value() has it), even
  // against a student with -inf logits
  static double tailValue(float log_p, const RowMoments& m, int64_t vocab) {
    const double p = std::exp(static_cast<double>(log_p));
    return p > 0 ? p * (static_cast<double>(vocab) * log_p - m.log_q_sum) : 0.0;
  }
  static void addTail(TailGradient& w, float u, float log_p) { w.g -= u * std::exp(log_p); }
};

struct ReverseKL {  // g = q log(q / p), h = q (log q - log p + 1)
  DISTILL_AVX2 Vec value(Vec log_q, Vec q, Vec log_p) const {
    return simd::select(simd::positive(q), _mm256_mul_ps(q, _mm256_sub_ps(log_q, log_p)), simd::zero());
  }
  DISTILL_AVX2 Vec grad(Vec log_q, Vec q, Vec log_p) const {
    const Vec x = _mm256_add_ps(_mm256_sub_ps(log_q, log_p), simd::splat(1.0f));
    return simd::select(simd::positive(q), _mm256_mul_ps(q, x), simd::zero());
  }
  static constexpr bool kClosedTail = true;
  // sum_c q_c (log q_c - log p) = sum_c q_c log q_c - log p
  static double tailValue(float log_p, const RowMoments& m, int64_t) { return static_cast<double>(m.q_log_q) - log_p; }
  static void addTail(TailGradient& w, float u, float log_p) {
    w.a += u;
    w.b += u * (1 - log_p);
  }
};

// beta in (0, 1): m = beta p + (1 - beta) q; g = beta p log(p / m) + (1 - beta) q log(q / m),
// h = (1 - beta) q log(q / m).
struct JSD {
  static constexpr bool kClosedTail = false;
  float beta, log_beta, log_rest;
  explicit JSD(double b) : beta(static_cast<float>(b)), log_beta(std::log(b)), log_rest(std::log1p(-b)) {}
  DISTILL_AVX2 Vec logM(Vec log_q, Vec log_p) const {
    return simd::logAddExp(_mm256_add_ps(log_p, simd::splat(log_beta)), _mm256_add_ps(log_q, simd::splat(log_rest)));
  }
  DISTILL_AVX2 Vec value(Vec log_q, Vec q, Vec log_p) const {
    const Vec log_m = logM(log_q, log_p);
    const Vec p = simd::exp(log_p);
    const Vec teacher = simd::select(simd::positive(p), _mm256_mul_ps(p, _mm256_sub_ps(log_p, log_m)), simd::zero());
    const Vec student = simd::select(simd::positive(q), _mm256_mul_ps(q, _mm256_sub_ps(log_q, log_m)), simd::zero());
    return _mm256_fmadd_ps(simd::splat(beta), teacher, _mm256_mul_ps(simd::splat(1 - beta), student));
  }
  DISTILL_AVX2 Vec grad(Vec log_q, Vec q, Vec log_p) const {
    const Vec x = _mm256_mul_ps(simd::splat(1 - beta), _mm256_mul_ps(q, _mm256_sub_ps(log_q, logM(log_q, log_p))));
    return simd::select(simd::positive(q), x, simd::zero());
  }
};

// alpha in (0, 1): m = alpha p + (1 - alpha) q; g = p log(p / m), h = -(1 - alpha) p q / m.
struct SkewKL {
  static constexpr bool kClosedTail = false;
  float alpha, log_alpha, log_rest;
  explicit SkewKL(double a) : alpha(static_cast<float>(a)), log_alpha(std::log(a)), log_rest(std::log1p(-a)) {}
  DISTILL_AVX2 Vec logM(Vec log_q, Vec log_p) const {
    return simd::logAddExp(_mm256_add_ps(log_p, simd::splat(log_alpha)), _mm256_add_ps(log_q, simd::splat(log_rest)));
  }
  DISTILL_AVX2 Vec value(Vec log_q, Vec, Vec log_p) const {
    const Vec p = simd::exp(log_p);
    return simd::select(simd::positive(p), _mm256_mul_ps(p, _mm256_sub_ps(log_p, logM(log_q, log_p))), simd::zero());
  }
  DISTILL_AVX2 Vec grad(Vec log_q, Vec, Vec log_p) const {
    const Vec pq_m = simd::exp(_mm256_sub_ps(_mm256_add_ps(log_p, log_q), logM(log_q, log_p)));
    return simd::select(simd::positive(simd::exp(log_p)), _mm256_mul_ps(simd::splat(alpha - 1), pq_m), simd::zero());
  }
};

// alpha in (0, 1): m = alpha q + (1 - alpha) p; g = q log(q / m), h = q (log(q / m) + 1 - alpha q / m).
struct SkewReverseKL {
  static constexpr bool kClosedTail = false;
  float alpha, log_alpha, log_rest;
  explicit SkewReverseKL(double a) : alpha(static_cast<float>(a)), log_alpha(std::log(a)), log_rest(std::log1p(-a)) {}
  DISTILL_AVX2 Vec logQOverM(Vec log_q, Vec log_p) const {
    return _mm256_sub_ps(log_q, simd::logAddExp(_mm256_add_ps(log_q, simd::splat(log_alpha)),
                                                _mm256_add_ps(log_p, simd::splat(log_rest))));
  }
  DISTILL_AVX2 Vec value(Vec log_q, Vec q, Vec log_p) const {
    return simd::select(simd::positive(q), _mm256_mul_ps(q, logQOverM(log_q, log_p)), simd::zero());
  }
  DISTILL_AVX2 Vec grad(Vec log_q, Vec q, Vec log_p) const {
    const Vec r = logQOverM(log_q, log_p);
    const Vec x = _mm256_fnmadd_ps(simd::splat(alpha), simd::exp(r), _mm256_add_ps(r, simd::splat(1.0f)));
    return simd::select(simd::positive(q), _mm256_mul_ps(q, x), simd::zero());
  }
};

struct TotalVariation {  // g = |p - q| / 2, h = q sign(q - p) / 2
  static constexpr bool kClosedTail = false;
  DISTILL_AVX2 Vec value(Vec, Vec q, Vec log_p) const {
    return _mm256_mul_ps(simd::splat(0.5f), simd::abs(_mm256_sub_ps(simd::exp(log_p), q)));
  }
  DISTILL_AVX2 Vec grad(Vec, Vec q, Vec log_p) const {
    return _mm256_mul_ps(_mm256_mul_ps(simd::splat(0.5f), q), simd::sign(_mm256_sub_ps(q, simd::exp(log_p))));
  }
};

}  // namespace distill::kd::lanes
