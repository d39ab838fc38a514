// The closed-form logit loss of logit_rows.h, fused: one row of the chunk at
// a time, every term of the row in the same few passes over its V logits,
// eight tokens at a time (AVX2), with the row in cache. The tensor form in
// logit_rows.cpp computes the same thing as a dozen [chunk, V] tensor
// operations per term, each a pass through memory; this is its fast path on
// CPUs that have AVX2 and FMA, and the tests hold the two to each other.
//
// Per row, with the student's row stats (max and log-sum-exp at 1 / T):
//   forward    one pass for the stats' max, one for the sum, then one pass
//              that evaluates every dense teacher and every top-k teacher's
//              tail (divergence_lanes.h: g(p_tail, q_c) over all c), then the
//              top-k corrections on the k kept tokens
//   backward   the stats the forward pass kept, one pass that writes W = sum_j u_j h_j and q
//              to two row buffers (u_j the upstream weight of teacher j),
//              the top-k corrections added to W on the kept tokens, then one
//              pass that writes T (W - q sum W) + u_ce (softmax - onehot)
// A dense teacher's row adds two passes for its own stats.
//
// With forward or reverse KL and no dense teacher, a top-k teacher's tail needs
// no pass of its own (divergence_lanes.h, kClosedTail): its value comes from two
// row moments the stats pass also sums, and the backward pass is one pass that
// writes the gradient with W in closed form, then a light pass over the cached
// row for the kept tokens' share of sum W.
//
// Top-k indices are distinct within a row (topK and the caches write them so).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "trainer/distill/divergence_lanes.h"
#include "trainer/distill/task_loss.h"

namespace distill::kd::rows {

using simd::Vec;
using simd::kLanes;

// One term over the chunk's rows, row-major and contiguous.
struct TermRows {
  enum class Kind { kCrossEntropy, kDense, kTopK };
  Kind kind = Kind::kCrossEntropy;
  const int64_t* labels = nullptr;      // kCrossEntropy [r]; -100: no value, no gradient
  const float* logits = nullptr;        // kDense [r, V], unsoftened
  const float* log_p_kept = nullptr;    // kTopK [r, k], softened (softenTopK)
  const int64_t* indices = nullptr;     // kTopK [r, k]
  const float* log_p_tail = nullptr;    // kTopK [r], softened; null when k = V
  int64_t k = 0;
  const float* upstream = nullptr;      // backward: [r], this term's upstream gradient
  float* values = nullptr;              // forward: [r] written
};

struct Chunk {
  const float* logits = nullptr;  // the student's [r, V], unsoftened
  int64_t vocab = 0;
  float temperature = 1;
  std::vector<TermRows> terms;
  bool teacher = false, task = false;  // whether any term is a teacher's, any the task's
  // The student's row stats [r, kStatsPerRow] (max and log-sum at 1 / T, then at 1, then the
  // moments at 1 / T of a closed-form tail): the forward pass writes them and the backward pass
  // reads them when stats_known; null: computed where needed.
  float* stats = nullptr;
  bool stats_known = false;
  float* grad = nullptr;  // backward: [r, V] written
};

// Partial sums move from float lanes to a double every this many tokens.
inline constexpr int64_t kSpan = 2048;

inline constexpr int64_t kStatsPerRow = 6;

// Below this, e^z is 0 in float32 (its smallest subnormal is e^-103.3).
inline constexpr float kZeroExp = -200.0f;

// max and log sum exp((x - max) * scale) of one row: log-probabilities are (x - max) * scale - log_sum.
struct RowStats {
  float max = 0, log_sum = 0;
};

// Lanes past the row's end count 0.
DISTILL_AVX2 inline Vec valid(Vec x, int64_t n) {
  if (n >= kLanes) return x;
  return _mm256_and_ps(x, _mm256_castsi256_ps(simd::firstLanes(n)));
}

// With `moments`, also sum_c q_c log q_c and sum_c log q_c (q the softmax at `scale`), in the same pass.
DISTILL_AVX2 inline RowStats rowStats(const float* x, int64_t n, float scale, lanes::RowMoments* moments = nullptr) {
  const float neg_inf = -__builtin_inff();
  Vec m = simd::splat(neg_inf);
  for (int64_t c = 0; c < n; c += kLanes) m = _mm256_max_ps(m, simd::load(x + c, n - c, neg_inf));
  RowStats s{simd::max(m), 0};
  const Vec shift = simd::splat(s.max), k = simd::splat(scale);
  double total = 0, ez_z = 0, z_sum = 0;  // sum e^z, sum e^z z, sum z; z = (x - max) / T
  for (int64_t span = 0; span < n; span += kSpan) {
    Vec acc = simd::zero(), acc_ez_z = simd::zero(), acc_z = simd::zero();
    for (int64_t c = span; c < std::min(n, span + kSpan); c += kLanes) {
      const Vec z = _mm256_mul_ps(_mm256_sub_ps(simd::load(x + c, n - c, neg_inf), shift), k);
      const Vec e = simd::exp(z);
      acc = _mm256_add_ps(acc, e);
      if (moments) {  // e^z z with z >= kZeroExp, where e^z is 0: 0, not 0 * -inf (a NaN z stays NaN)
        acc_ez_z = _mm256_fmadd_ps(e, _mm256_max_ps(simd::splat(kZeroExp), z), acc_ez_z);
        acc_z = _mm256_add_ps(acc_z, valid(z, n - c));
      }
    }
    total += simd::sum(acc);
    ez_z += simd::sum(acc_ez_z);
    z_sum += simd::sum(acc_z);
  }
  const double log_sum = std::log(total);
  s.log_sum = static_cast<float>(log_sum);
  if (moments) {  // log q = z - log_sum
    moments->q_log_q = static_cast<float>(ez_z / total - log_sum);
    moments->log_q_sum = static_cast<float>(z_sum - static_cast<double>(n) * log_sum);
  }
  return s;
}

DISTILL_AVX2 inline Vec logProbs(const float* x, int64_t n, const RowStats& s, float scale) {
  const Vec z = _mm256_sub_ps(simd::load(x, n, -__builtin_inff()), simd::splat(s.max));
  return _mm256_fmsub_ps(z, simd::splat(scale), simd::splat(s.log_sum));
}

// A teacher's softened log-probabilities on eight tokens of the row: its dense row, or its top-k's tail.
struct TeacherSide {
  const float* row = nullptr;  // dense: unsoftened
  RowStats stats;
  float tail = 0;              // top-k
  float weight = 0;            // backward: the upstream gradient of this row
  DISTILL_AVX2 Vec logP(int64_t c, int64_t n, float scale) const {
    return row ? logProbs(row + c, n, stats, scale) : simd::splat(tail);
  }
};

// The student's log q on the kept tokens idx[0, n) of a row (n <= 8), -inf past n.
DISTILL_AVX2 inline Vec gatherLogQ(const float* x, const int64_t* idx, int64_t n, const RowStats& s, float scale) {
  alignas(32) float picked[kLanes];
  for (int64_t m = 0; m < kLanes; ++m) picked[m] = m < n ? x[idx[m]] : -__builtin_inff();
  return logProbs(picked, kLanes, s, scale);
}

// A row's softmax stats: at 1 / T for the teachers' terms, at 1 for the task's; the moments at 1 / T
// when the tails are in closed form.
struct StudentStats {
  RowStats soft, task;
  lanes::RowMoments moments;
};

// Whether the chunk's teachers need no pass of their own: a kClosedTail divergence, no dense teacher.
template <class Div>
bool closedTails(const Chunk& chunk) {
  return Div::kClosedTail && chunk.teacher && std::none_of(chunk.terms.begin(), chunk.terms.end(),
                                          [](const TermRows& t) { return t.kind == TermRows::Kind::kDense; });
}

template <class Div>
struct RowKernel {
  const Chunk& chunk;
  Div div;
  float scale = 1 / chunk.temperature;
  bool closed = closedTails<Div>(chunk);

  DISTILL_AVX2 StudentStats studentStats(int64_t i) const {
    float* saved = chunk.stats ? chunk.stats + kStatsPerRow * i : nullptr;
    if (saved && chunk.stats_known) return {{saved[0], saved[1]}, {saved[2], saved[3]}, {saved[4], saved[5]}};
    const float* x = chunk.logits + i * chunk.vocab;
    StudentStats s;
    if (chunk.teacher) s.soft = rowStats(x, chunk.vocab, scale, closed ? &s.moments : nullptr);
    if (chunk.task) s.task = chunk.teacher && chunk.temperature == 1 ? s.soft : rowStats(x, chunk.vocab, 1);
    if (saved) {
      const float row[kStatsPerRow] = {s.soft.max, s.soft.log_sum,      s.task.max,
                                       s.task.log_sum, s.moments.q_log_q, s.moments.log_q_sum};
      std::copy(row, row + kStatsPerRow, saved);
    }
    return s;
  }

  // The teachers that cover the whole row (dense, or top-k with a tail), row i's.
  DISTILL_AVX2 std::vector<TeacherSide> sides(int64_t i, bool backward) const {
    std::vector<TeacherSide> out;
    const int64_t v = chunk.vocab;
    for (const TermRows& t : chunk.terms) {
      TeacherSide s;
      if (t.kind == TermRows::Kind::kDense) {
        s.row = t.logits + i * v;
        s.stats = rowStats(s.row, v, scale);
      } else if (t.kind == TermRows::Kind::kTopK && t.log_p_tail) {
        s.tail = t.log_p_tail[i];
      } else {
        continue;
      }
      if (backward) s.weight = t.upstream[i];
      out.push_back(s);
    }
    return out;
  }

  // The top-k correction on row i's kept tokens: value, or the gradient terms' delta per kept token.
  DISTILL_AVX2 Vec keptTerms(const TermRows& t, int64_t i, int64_t c, const RowStats& s, bool grad) const {
    const float* x = chunk.logits + i * chunk.vocab;
    const int64_t n = t.k - c;
    const Vec log_q = gatherLogQ(x, t.indices + i * t.k + c, n, s, scale);
    const Vec q = simd::exp(log_q);
    const Vec log_p = simd::load(t.log_p_kept + i * t.k + c, n, -__builtin_inff());
    Vec out = grad ? div.grad(log_q, q, log_p) : div.value(log_q, q, log_p);
    if (t.log_p_tail) {
      const Vec tail = simd::splat(t.log_p_tail[i]);
      out = _mm256_sub_ps(out, grad ? div.grad(log_q, q, tail) : div.value(log_q, q, tail));
    }
    return valid(out, n);
  }

  DISTILL_AVX2 void forward(int64_t i) const {
    const int64_t v = chunk.vocab;
    const float* x = chunk.logits + i * v;
    const StudentStats stats = studentStats(i);
    const RowStats& s = stats.soft;
    const std::vector<TeacherSide> teachers = closed ? std::vector<TeacherSide>{} : sides(i, /*backward=*/false);
    std::vector<double> totals(teachers.size(), 0.0);
    std::vector<float> acc(teachers.size() * kLanes);  // each teacher's eight partial sums
    for (int64_t span = 0; span < v && !teachers.empty(); span += kSpan) {
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t c = span; c < std::min(v, span + kSpan); c += kLanes) {
        const Vec log_q = logProbs(x + c, v - c, s, scale);
        const Vec q = simd::exp(log_q);
        for (size_t j = 0; j < teachers.size(); ++j) {
          float* a = acc.data() + j * kLanes;
          const Vec term = valid(div.value(log_q, q, teachers[j].logP(c, v - c, scale)), v - c);
          _mm256_storeu_ps(a, _mm256_add_ps(_mm256_loadu_ps(a), term));
        }
      }
      for (size_t j = 0; j < teachers.size(); ++j) totals[j] += simd::sum(_mm256_loadu_ps(acc.data() + j * kLanes));
    }
    const float t2 = chunk.temperature * chunk.temperature;
    size_t j = 0;
    for (const TermRows& t : chunk.terms) {
      if (t.kind == TermRows::Kind::kCrossEntropy) {
        const int64_t label = t.labels[i];
        t.values[i] = label == kIgnoreLabel ? 0.0f : stats.task.log_sum - (x[label] - stats.task.max);
        continue;
      }
      double total = 0;
      if (closed && t.log_p_tail) {
        if constexpr (Div::kClosedTail) total = Div::tailValue(t.log_p_tail[i], stats.moments, v);
      } else if (t.kind == TermRows::Kind::kDense || t.log_p_tail) {
        total = totals[j++];
      }
      if (t.kind == TermRows::Kind::kTopK) {
        Vec kept = simd::zero();
        for (int64_t c = 0; c < t.k; c += kLanes) kept = _mm256_add_ps(kept, keptTerms(t, i, c, s, /*grad=*/false));
        total += simd::sum(kept);
      }
      t.values[i] = static_cast<float>(total) * t2;
    }
  }

  // Row i's task terms: their upstream gradients summed over the counted ones (-100 counts nothing).
  float taskWeight(int64_t i) const {
    float u = 0;
    for (const TermRows& t : chunk.terms) {
      if (t.kind == TermRows::Kind::kCrossEntropy && t.labels[i] != kIgnoreLabel) u += t.upstream[i];
    }
    return u;
  }

  // The task terms' -u on each counted label of row i.
  void subtractLabels(int64_t i, float* out) const {
    for (const TermRows& t : chunk.terms) {
      if (t.kind == TermRows::Kind::kCrossEntropy && t.labels[i] != kIgnoreLabel) out[t.labels[i]] -= t.upstream[i];
    }
  }

  // w and q_row: buffers of rowBufferFloats floats (the closed form keeps its kept-token deltas in w).
  DISTILL_AVX2 void backward(int64_t i, float* w, float* q_row) const {
    const int64_t v = chunk.vocab;
    const float* x = chunk.logits + i * v;
    const StudentStats stats = studentStats(i);
    if (closed) {
      backwardClosed(i, stats, w, q_row);
      return;
    }
    const RowStats& s = stats.soft;
    const std::vector<TeacherSide> teachers = sides(i, /*backward=*/true);
    bool any_teacher = !teachers.empty();
    double total = 0;  // sum_c W_c
    for (int64_t span = 0; span < v && any_teacher; span += kSpan) {
      Vec acc = simd::zero();
      for (int64_t c = span; c < std::min(v, span + kSpan); c += kLanes) {
        const Vec log_q = logProbs(x + c, v - c, s, scale);
        const Vec q = simd::exp(log_q);
        Vec sum = simd::zero();
        for (const TeacherSide& t : teachers) {
          sum = _mm256_fmadd_ps(simd::splat(t.weight), div.grad(log_q, q, t.logP(c, v - c, scale)), sum);
        }
        simd::store(w + c, sum, v - c);
        simd::store(q_row + c, q, v - c);
        acc = _mm256_add_ps(acc, valid(sum, v - c));
      }
      total += simd::sum(acc);
    }
    for (const TermRows& t : chunk.terms) {
      if (t.kind != TermRows::Kind::kTopK) continue;
      if (!any_teacher) {  // top-k teachers without a tail only: W is 0 but on their kept tokens
        std::fill(w, w + v, 0.0f);
        any_teacher = true;
      }
      const int64_t* idx = t.indices + i * t.k;
      for (int64_t c = 0; c < t.k; c += kLanes) {
        alignas(32) float delta[kLanes];
        _mm256_store_ps(delta, _mm256_mul_ps(simd::splat(t.upstream[i]), keptTerms(t, i, c, s, /*grad=*/true)));
        for (int64_t m = 0; m < std::min<int64_t>(kLanes, t.k - c); ++m) {
          w[idx[c + m]] += delta[m];
          total += delta[m];
        }
      }
    }
    if (any_teacher && teachers.empty()) {  // q was not written by the first pass
      for (int64_t c = 0; c < v; c += kLanes) simd::store(q_row + c, simd::exp(logProbs(x + c, v - c, s, scale)), v - c);
    }
    writeGradient(i, any_teacher ? w : nullptr, q_row, static_cast<float>(total), taskWeight(i), stats.task);
  }

  // The backward pass with every tail in closed form, W_c = q_c (a log q_c + b) + g plus each top-k
  // teacher's kept corrections: one pass writes T W (closed part) + u_ce softmax and keeps q; the
  // corrections are summed (into `deltas`, k floats per term) once the row is in cache; a pass over
  // the two cached rows subtracts T q sum W; the corrections go to their tokens.
  DISTILL_AVX2 void backwardClosed(int64_t i, const StudentStats& stats, float* deltas, float* q_row) const {
    const int64_t v = chunk.vocab;
    const float* x = chunk.logits + i * v;
    float* out = chunk.grad + i * v;
    const RowStats& s = stats.soft;
    lanes::TailGradient tail;
    for (const TermRows& t : chunk.terms) {
      if (t.kind == TermRows::Kind::kTopK && t.log_p_tail) {
        if constexpr (Div::kClosedTail) Div::addTail(tail, t.upstream[i], t.log_p_tail[i]);
      }
    }
    const float ce_weight = taskWeight(i);
    const float temp = chunk.temperature;
    const bool shared_softmax = temp == 1;  // the task's softmax is q
    const Vec tv = simd::splat(temp), a = simd::splat(tail.a), b = simd::splat(tail.b), g = simd::splat(tail.g);
    const Vec u = simd::splat(ce_weight);
    const bool task_softmax = ce_weight != 0 && !shared_softmax;  // a second exp per token
    for (int64_t c = 0; c < v; c += kLanes) {
      const int64_t n = v - c;
      const Vec log_q = logProbs(x + c, n, s, scale);
      const Vec q = simd::exp(log_q);
      // q (a log q + b) + g, 0 log 0 counted 0
      const Vec w = _mm256_add_ps(simd::select(simd::positive(q), _mm256_mul_ps(q, _mm256_fmadd_ps(a, log_q, b)),
                                               simd::zero()), g);
      // + u_ce softmax: q itself at T = 1 (u_ce is 0 when no task term counts)
      const Vec softmax = task_softmax ? simd::exp(logProbs(x + c, n, stats.task, 1)) : q;
      simd::store(out + c, _mm256_fmadd_ps(u, softmax, _mm256_mul_ps(tv, w)), n);
      simd::store(q_row + c, q, n);
    }
    double total = static_cast<double>(tail.a) * stats.moments.q_log_q + tail.b + static_cast<double>(tail.g) * v;
    float* d = deltas;
    for (const TermRows& t : chunk.terms) {
      if (t.kind != TermRows::Kind::kTopK) continue;
      for (int64_t c = 0; c < t.k; c += kLanes) {
        const Vec delta = _mm256_mul_ps(simd::splat(t.upstream[i]), keptTerms(t, i, c, s, /*grad=*/true));
        simd::store(d + c, delta, t.k - c);
        total += simd::sum(delta);
      }
      d += t.k;
    }
    const Vec minus_t_total = simd::splat(-temp * static_cast<float>(total));
    for (int64_t c = 0; c < v; c += kLanes) {
      const int64_t n = v - c;
      simd::store(out + c, _mm256_fmadd_ps(minus_t_total, simd::load(q_row + c, n, 0), simd::load(out + c, n, 0)), n);
    }
    d = deltas;
    for (const TermRows& t : chunk.terms) {
      if (t.kind != TermRows::Kind::kTopK) continue;
      const int64_t* idx = t.indices + i * t.k;
      for (int64_t m = 0; m < t.k; ++m) out[idx[m]] += temp * d[m];
      d += t.k;
    }
    subtractLabels(i, out);
  }

  // grad row i = T (W - q S) + u_ce softmax(x), then -u on each counted label.
  DISTILL_AVX2 void writeGradient(int64_t i, const float* w, const float* q_row, float w_total, float ce_weight,
                                  const RowStats& s1) const {
    const int64_t v = chunk.vocab;
    const float* x = chunk.logits + i * v;
    float* out = chunk.grad + i * v;
    const bool task_softmax = ce_weight != 0 && !(w && chunk.temperature == 1);
    const Vec t = simd::splat(chunk.temperature), total = simd::splat(w_total), u = simd::splat(ce_weight);
    for (int64_t c = 0; c < v; c += kLanes) {
      const int64_t n = v - c;
      Vec g = simd::zero();
      if (w) {
        const Vec q = simd::load(q_row + c, n, 0);
        g = _mm256_mul_ps(t, _mm256_fnmadd_ps(q, total, simd::load(w + c, n, 0)));
        if (ce_weight != 0 && !task_softmax) g = _mm256_fmadd_ps(u, q, g);
      }
      if (task_softmax) g = _mm256_fmadd_ps(u, simd::exp(logProbs(x + c, n, s1, 1)), g);
      simd::store(out + c, g, n);
    }
    subtractLabels(i, out);
  }
};

// The floats each of backwardRows' two row buffers holds: V, or the kept tokens of every top-k term if more.
inline int64_t rowBufferFloats(const Chunk& chunk) {
  int64_t kept = 0;
  for (const TermRows& t : chunk.terms) kept += t.kind == TermRows::Kind::kTopK ? t.k : 0;
  return std::max(chunk.vocab, kept);
}

// Rows [begin, end) of the chunk: values, or the gradient (w, q: buffers of rowBufferFloats floats).
template <class Div>
DISTILL_AVX2 void forwardRows(const Chunk& chunk, const Div& div, int64_t begin, int64_t end) {
  const RowKernel<Div> kernel{chunk, div};
  for (int64_t i = begin; i < end; ++i) kernel.forward(i);
}

template <class Div>
DISTILL_AVX2 void backwardRows(const Chunk& chunk, const Div& div, int64_t begin, int64_t end, float* w, float* q) {
  const RowKernel<Div> kernel{chunk, div};
  for (int64_t i = begin; i < end; ++i) kernel.backward(i, w, q);
}

// The divergence d names, as a lane functor, passed to f; false (f not called) for a name this does not know.
template <class F>
bool withDivergence(const std::string& name, double beta, double alpha, F&& f) {
  if (name == "forward_kl" || (name == "jsd" && beta == 0) || (name == "skew_kl" && alpha == 0)) {
    f(lanes::ForwardKL{});
  } else if (name == "reverse_kl" || (name == "jsd" && beta == 1) || (name == "skew_reverse_kl" && alpha == 0)) {
    f(lanes::ReverseKL{});
  } else if (name == "jsd") {
    f(lanes::JSD(beta));
  } else if (name == "skew_kl") {
    f(lanes::SkewKL(alpha));
  } else if (name == "skew_reverse_kl") {
    f(lanes::SkewReverseKL(alpha));
  } else if (name == "tvd") {
    f(lanes::TotalVariation{});
  } else {
    return false;
  }
  return true;
}

}  // namespace distill::kd::rows
