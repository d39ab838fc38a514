// exp and log on eight floats at a time (AVX2 and FMA), for the fused row
// kernels (logit_row_kernel.h), without compiling the whole build for AVX2:
// every function here carries DISTILL_AVX2 and may only be called from
// functions that carry it too, after avx2Available() said yes.
//
// exp: e^x = 2^n e^r with n = round(x / ln 2) and |r| <= ln 2 / 2 (ln 2 in two
// parts, so r is exact), e^r by its Taylor polynomial to degree 7 (error below
// 6e-9 relative), 2^n put into the exponent bits. Exactly 0 below
// log(FLT_MIN) (~ -87.3: no subnormals, where libm gives them down to
// ~ -103.9) and for -inf; NaN stays NaN; meant for x <= 88 (every caller
// exponentiates log-probabilities or differences of them, which are <= 0 up
// to rounding).
//
// log: x = 2^e m with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s) with
// s = (m - 1) / (m + 1), |s| <= 0.172, by its series to s^9 (error below
// 1e-9). For normal x > 0 (the callers take the log of 1 + e^-d, in [1, 2]).
#pragma once

// x86-64 only; elsewhere DISTILL_SIMD_AVX2 is 0 and the callers keep their tensor forms.
#if defined(__x86_64__)
#define DISTILL_SIMD_AVX2 1
#else
#define DISTILL_SIMD_AVX2 0
#endif

#if DISTILL_SIMD_AVX2
#include <immintrin.h>

#define DISTILL_AVX2 __attribute__((target("avx2,fma")))

namespace distill::simd {

using Vec = __m256;
inline constexpr int kLanes = 8;

// Whether this CPU runs the functions here.
inline bool avx2Available() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}

DISTILL_AVX2 inline Vec splat(float x) { return _mm256_set1_ps(x); }
DISTILL_AVX2 inline Vec zero() { return _mm256_setzero_ps(); }

// mask ? a : b, lane by lane (mask from a comparison).
DISTILL_AVX2 inline Vec select(Vec mask, Vec a, Vec b) { return _mm256_blendv_ps(b, a, mask); }
DISTILL_AVX2 inline Vec greater(Vec a, Vec b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
DISTILL_AVX2 inline Vec positive(Vec a) { return greater(a, zero()); }

DISTILL_AVX2 inline Vec exp(Vec x) {
  const Vec smallest = splat(-87.33654f);  // log(FLT_MIN)
  // max and min return their second operand where either is NaN: x second keeps a NaN a NaN.
  const Vec xc = _mm256_min_ps(splat(88.0f), _mm256_max_ps(smallest, x));
  const Vec n = _mm256_round_ps(_mm256_mul_ps(xc, splat(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  Vec r = _mm256_fnmadd_ps(n, splat(0.693359375f), xc);  // ln 2 = 0.693359375 - 2.12194440e-4, the first exact
  r = _mm256_fnmadd_ps(n, splat(-2.12194440e-4f), r);
  Vec p = splat(1.0f / 5040);
  p = _mm256_fmadd_ps(p, r, splat(1.0f / 720));
  p = _mm256_fmadd_ps(p, r, splat(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, splat(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, splat(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, splat(0.5f));
  p = _mm256_fmadd_ps(p, r, splat(1.0f));
  p = _mm256_fmadd_ps(p, r, splat(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  const Vec y = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  return select(_mm256_cmp_ps(x, smallest, _CMP_LT_OQ), zero(), y);
}

DISTILL_AVX2 inline Vec log(Vec x) {
  const __m256i bits = _mm256_castps_si256(x);
  Vec e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127)));
  Vec m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)),
                                              _mm256_set1_epi32(0x3f800000)));  // [1, 2)
  const Vec big = _mm256_cmp_ps(m, splat(1.41421356237f), _CMP_GT_OQ);
  m = select(big, _mm256_mul_ps(m, splat(0.5f)), m);
  e = select(big, _mm256_add_ps(e, splat(1.0f)), e);
  const Vec s = _mm256_div_ps(_mm256_sub_ps(m, splat(1.0f)), _mm256_add_ps(m, splat(1.0f)));
  const Vec s2 = _mm256_mul_ps(s, s);
  Vec p = splat(1.0f / 9);
  p = _mm256_fmadd_ps(p, s2, splat(1.0f / 7));
  p = _mm256_fmadd_ps(p, s2, splat(1.0f / 5));
  p = _mm256_fmadd_ps(p, s2, splat(1.0f / 3));
  p = _mm256_fmadd_ps(p, s2, splat(1.0f));
  const Vec log_m = _mm256_mul_ps(_mm256_mul_ps(splat(2.0f), s), p);
  return _mm256_fmadd_ps(e, splat(0.693147180559945f), log_m);
}

// log(e^a + e^b), stable; -inf where both are -inf, NaN where either is NaN.
DISTILL_AVX2 inline Vec logAddExp(Vec a, Vec b) {
  const Vec hi = _mm256_max_ps(a, b);
  const Vec gap = _mm256_sub_ps(_mm256_min_ps(a, b), hi);  // <= 0; NaN where both are -inf
  const Vec sum = _mm256_add_ps(hi, log(_mm256_add_ps(splat(1.0f), exp(gap))));
  const Vec out = select(_mm256_cmp_ps(hi, splat(-__builtin_inff()), _CMP_EQ_OQ), hi, sum);
  return select(_mm256_cmp_ps(a, b, _CMP_UNORD_Q), _mm256_add_ps(a, b), out);
}

DISTILL_AVX2 inline Vec abs(Vec x) { return _mm256_andnot_ps(splat(-0.0f), x); }

// 1, 0 or -1 by the sign of x (0 at 0).
DISTILL_AVX2 inline Vec sign(Vec x) {
  const Vec one = splat(1.0f);
  return _mm256_sub_ps(_mm256_and_ps(greater(x, zero()), one), _mm256_and_ps(greater(zero(), x), one));
}

DISTILL_AVX2 inline float sum(Vec x) {
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
}

DISTILL_AVX2 inline float max(Vec x) {
  const __m128 h = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
  const __m128 q = _mm_max_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_max_ss(q, _mm_shuffle_ps(q, q, 1)));
}

// The lanes of a block of n < 8 valid elements: all ones in the first n.
DISTILL_AVX2 inline __m256i firstLanes(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Loads n <= 8 floats (the rest `fill`); stores n.
DISTILL_AVX2 inline Vec load(const float* p, int64_t n, float fill) {
  if (n >= kLanes) return _mm256_loadu_ps(p);
  const __m256i lanes = firstLanes(n);
  return select(_mm256_castsi256_ps(lanes), _mm256_maskload_ps(p, lanes), splat(fill));
}

DISTILL_AVX2 inline void store(float* p, Vec x, int64_t n) {
  if (n >= kLanes) {
    _mm256_storeu_ps(p, x);
  } else {
    _mm256_maskstore_ps(p, firstLanes(n), x);
  }
}

}  // namespace distill::simd
#endif  // DISTILL_SIMD_AVX2
