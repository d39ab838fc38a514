#include "trainer/distill/logit_rows.h"

#include <algorithm>
#include <utility>

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "common/error.h"
#include "trainer/distill/simd_math.h"
#if DISTILL_SIMD_AVX2
#include "trainer/distill/logit_row_kernel.h"
#endif
#include "trainer/distill/task_loss.h"
#include "trainer/distill/top_k_divergence.h"

namespace distill::kd {

LogitTerm LogitTerm::crossEntropy(torch::Tensor labels) {
  LogitTerm t;
  t.kind = Kind::kCrossEntropy;
  t.labels = std::move(labels);
  return t;
}

LogitTerm LogitTerm::dense(torch::Tensor teacher_logits) {
  LogitTerm t;
  t.kind = Kind::kDense;
  t.logits = std::move(teacher_logits);
  return t;
}

LogitTerm LogitTerm::topK(teachers::TopK rows, int64_t vocab) {
  LogitTerm t;
  t.kind = Kind::kTopK;
  t.top_k = std::move(rows);
  t.vocab = vocab;
  return t;
}

namespace {

using Kind = LogitTerm::Kind;

// Rows [begin, end) of the student's logits, as the terms read them.
struct StudentChunk {
  int64_t begin = 0, end = 0;
  torch::Tensor log_q;   // log softmax(z / T), float32; undefined without a teacher
  torch::Tensor log_q1;  // log softmax(z), the task term's; undefined without one
};

StudentChunk soften(const torch::Tensor& logits, int64_t begin, int64_t end, const std::vector<LogitTerm>& terms,
                    double t) {
  const bool task = std::any_of(terms.begin(), terms.end(), [](const LogitTerm& x) { return x.kind == Kind::kCrossEntropy; });
  const bool teacher = std::any_of(terms.begin(), terms.end(), [](const LogitTerm& x) { return x.kind != Kind::kCrossEntropy; });
  const torch::Tensor z = logits.slice(0, begin, end).to(torch::kFloat);
  StudentChunk c{begin, end};
  if (teacher) c.log_q = torch::log_softmax(t == 1 ? z : z / t, /*dim=*/-1);
  if (task) c.log_q1 = teacher && t == 1 ? c.log_q : torch::log_softmax(z, /*dim=*/-1);
  return c;
}

// A chunk's labels: -100 as class 0 [r, 1] (any valid index), and which rows count [r].
struct ChunkLabels {
  torch::Tensor safe, ignored;
};

ChunkLabels chunkLabels(const LogitTerm& term, const StudentChunk& c) {
  const torch::Tensor labels = term.labels.slice(0, c.begin, c.end);
  const torch::Tensor ignored = labels == kIgnoreLabel;
  return {labels.masked_fill(ignored, 0).unsqueeze(1), ignored};
}

// A teacher's softened distribution over the chunk: dense log-probabilities, or its top-k.
torch::Tensor denseLogProbs(const LogitTerm& term, const StudentChunk& c, double t) {
  return torch::log_softmax(term.logits.slice(0, c.begin, c.end).detach().to(torch::kFloat) / t, /*dim=*/-1);
}

SoftenedTopK softTopK(const LogitTerm& term, const StudentChunk& c, double t) {
  const teachers::TopK& k = term.top_k;
  return softenTopK({k.log_probs.slice(0, c.begin, c.end), k.indices.slice(0, c.begin, c.end),
                     k.residual.slice(0, c.begin, c.end)},
                    term.vocab, t);
}

torch::Tensor valueOf(const LogitTerm& term, const StudentChunk& c, const Divergence& d) {
  const double t = d.temperature;
  switch (term.kind) {
    case Kind::kCrossEntropy: {
      const ChunkLabels l = chunkLabels(term, c);
      const torch::Tensor nll = -c.log_q1.gather(/*dim=*/1, l.safe).squeeze(1);
      return torch::where(l.ignored, torch::zeros_like(nll), nll);
    }
    case Kind::kDense:
      return divergenceOfLogProbs(c.log_q, denseLogProbs(term, c, t), d) * (t * t);
    case Kind::kTopK:
      return topKDivergenceOfLogProbs(c.log_q, softTopK(term, c, t), d) * (t * t);
  }
  DISTILL_FAIL("logit rows: unknown term");
}

// The gradient of sum_j sum_rows grads[j] * value_j with respect to the chunk's logits: float32 [r, V].
torch::Tensor chunkGradient(const std::vector<LogitTerm>& terms, const StudentChunk& c, const torch::Tensor& grads,
                            const Divergence& d) {
  const double t = d.temperature;
  torch::Tensor grad;       // the task term's: softmax(z) - onehot(label)
  torch::Tensor weighted;   // sum over teachers of g_j h_j
  for (size_t j = 0; j < terms.size(); ++j) {
    const torch::Tensor g = grads[static_cast<int64_t>(j)].unsqueeze(1);  // [r, 1]
    const LogitTerm& term = terms[j];
    if (term.kind == Kind::kCrossEntropy) {
      const ChunkLabels l = chunkLabels(term, c);
      const torch::Tensor counted_g = g.masked_fill(l.ignored.unsqueeze(1), 0);
      torch::Tensor ce = c.log_q1.exp().mul_(counted_g);
      ce.scatter_add_(/*dim=*/1, l.safe, -counted_g);
      grad = grad.defined() ? grad.add_(ce) : ce;
      continue;
    }
    const torch::Tensor h = term.kind == Kind::kDense ? divergenceGradientTerms(c.log_q, denseLogProbs(term, c, t), d)
                                                      : topKGradientTerms(c.log_q, softTopK(term, c, t), d);
    weighted = weighted.defined() ? weighted.addcmul_(h, g) : h * g;
  }
  if (weighted.defined()) {  // T (W - q sum_c W_c), through the softmax at temperature T
    const torch::Tensor totals = weighted.sum(/*dim=*/-1, /*keepdim=*/true);
    weighted.sub_(c.log_q.exp().mul_(totals)).mul_(t);
    grad = grad.defined() ? grad.add_(weighted) : weighted;
  }
  return grad;
}

// The terms, the divergence, the chunk and the kernel, for the backward pass (saved_data keeps IValues).
struct TermsHolder : torch::CustomClassHolder {
  TermsHolder(std::vector<LogitTerm> t, Divergence dv, int64_t c, bool f)
      : terms(std::move(t)), d(std::move(dv)), chunk(c), fused(f) {}
  std::vector<LogitTerm> terms;
  Divergence d;
  int64_t chunk;
  bool fused;
  mutable torch::Tensor student_stats;  // fused: the student's row stats [R, kStatsPerRow], from the forward pass
  mutable std::vector<SoftenedTopK> softened;  // fused: each top-k term's, every row, contiguous; made once
};

#if DISTILL_SIMD_AVX2
// The fused kernel's view of rows [begin, end): float32 contiguous copies, kept alive by `keep`.
torch::Tensor floatRows(const torch::Tensor& x, int64_t begin, int64_t end) {
  return x.slice(0, begin, end).detach().to(torch::kFloat).contiguous();
}

// Each top-k term softened over all rows once per loss (a few small tensor operations, not a few per
// chunk), kept for the backward pass: [R, k] per teacher, small beside the [R, V] logits.
void softenAll(const TermsHolder& h, int64_t rows) {
  if (!h.softened.empty()) return;
  for (const LogitTerm& term : h.terms) {
    SoftenedTopK p;
    if (term.kind == Kind::kTopK) {
      p = softTopK(term, StudentChunk{0, rows}, h.d.temperature);
      p.indices = p.indices.contiguous();
      p.log_p_kept = p.log_p_kept.contiguous();
      if (p.log_p_tail.defined()) p.log_p_tail = p.log_p_tail.reshape({-1}).contiguous();
    }
    h.softened.push_back(p);
  }
}

rows::Chunk fusedChunk(const torch::Tensor& logits, int64_t begin, int64_t end, const TermsHolder& h,
                       std::vector<torch::Tensor>& keep) {
  using RowKind = rows::TermRows::Kind;
  rows::Chunk c;
  keep.push_back(floatRows(logits, begin, end));
  c.logits = keep.back().data_ptr<float>();
  c.vocab = logits.size(1);
  c.temperature = static_cast<float>(h.d.temperature);
  softenAll(h, logits.size(0));
  for (size_t j = 0; j < h.terms.size(); ++j) {
    const LogitTerm& term = h.terms[j];
    rows::TermRows r;
    switch (term.kind) {
      case Kind::kCrossEntropy:
        r.kind = RowKind::kCrossEntropy;
        keep.push_back(term.labels.slice(0, begin, end).to(torch::kLong).contiguous());
        r.labels = keep.back().data_ptr<int64_t>();
        break;
      case Kind::kDense:
        r.kind = RowKind::kDense;
        keep.push_back(floatRows(term.logits, begin, end));
        r.logits = keep.back().data_ptr<float>();
        break;
      case Kind::kTopK: {
        const SoftenedTopK& p = h.softened[j];
        r.kind = RowKind::kTopK;
        r.k = p.indices.size(1);
        r.indices = p.indices.data_ptr<int64_t>() + begin * r.k;
        r.log_p_kept = p.log_p_kept.data_ptr<float>() + begin * r.k;
        if (p.log_p_tail.defined()) r.log_p_tail = p.log_p_tail.data_ptr<float>() + begin;
        break;
      }
    }
    c.teacher = c.teacher || r.kind != RowKind::kCrossEntropy;
    c.task = c.task || r.kind == RowKind::kCrossEntropy;
    c.terms.push_back(r);
  }
  return c;
}

// f(div) with the lane functor of the divergence (any, when no term is a teacher's).
template <class F>
void withLanes(const TermsHolder& h, F&& f) {
  const bool teacher = std::any_of(h.terms.begin(), h.terms.end(), [](const LogitTerm& x) { return x.kind != Kind::kCrossEntropy; });
  if (!teacher) {
    f(lanes::ReverseKL{});
    return;
  }
  const Divergence& d = h.d;
  if (d.name == "jsd") DISTILL_CHECK(d.beta >= 0 && d.beta <= 1, "distill.beta must be in [0, 1], got ", d.beta);
  if (d.name == "skew_kl" || d.name == "skew_reverse_kl") {
    DISTILL_CHECK(d.alpha >= 0 && d.alpha < 1, "distill.alpha must be in [0, 1), got ", d.alpha);
  }
  const bool known = rows::withDivergence(d.name, d.beta, d.alpha, f);
  DISTILL_CHECK(known, "distill.divergence: unknown divergence \"", d.name, "\"");
}

constexpr int64_t kRowsPerTask = 8;
// Logits in another dtype are converted to float32 this many rows at a time at most, so the rows
// the kernel reads (and the gradient rows copied back) are still in cache.
constexpr int64_t kConvertedRows = 64;

// f(view, begin, end, div) for each chunk [begin, end) of rows, div the divergence's lane functor.
template <class F>
void forEachFusedChunk(const torch::Tensor& logits, const TermsHolder& h, F&& f) {
  const int64_t rows = logits.size(0);
  const int64_t step = logits.scalar_type() == torch::kFloat ? h.chunk : std::min(h.chunk, kConvertedRows);
  withLanes(h, [&](auto div) {
    for (int64_t begin = 0; begin < rows; begin += step) {
      const int64_t end = std::min(rows, begin + step);
      std::vector<torch::Tensor> keep;  // the float32 copies the view points into
      rows::Chunk c = fusedChunk(logits, begin, end, h, keep);
      f(c, begin, end, div);
    }
  });
}

void fusedValues(const torch::Tensor& logits, const TermsHolder& h, torch::Tensor& out) {
  const torch::Tensor stats = torch::empty({logits.size(0), rows::kStatsPerRow}, torch::kFloat);  // for the backward pass
  forEachFusedChunk(logits, h, [&](rows::Chunk& c, int64_t begin, int64_t end, auto div) {
    for (size_t j = 0; j < c.terms.size(); ++j) c.terms[j].values = out[static_cast<int64_t>(j)].data_ptr<float>() + begin;
    c.stats = stats.data_ptr<float>() + begin * rows::kStatsPerRow;  // written
    at::parallel_for(0, end - begin, kRowsPerTask, [&](int64_t b, int64_t e) { rows::forwardRows(c, div, b, e); });
  });
  h.student_stats = stats;
}

torch::Tensor fusedGradient(const torch::Tensor& logits, const TermsHolder& h, const torch::Tensor& upstream) {
  const int64_t vocab = logits.size(1);
  torch::Tensor grad = torch::empty(logits.sizes(), logits.options());
  const bool in_place = grad.scalar_type() == torch::kFloat;
  const torch::Tensor g = upstream.to(torch::kFloat).contiguous();  // [terms, R]
  forEachFusedChunk(logits, h, [&](rows::Chunk& c, int64_t begin, int64_t end, auto div) {
    for (size_t j = 0; j < c.terms.size(); ++j) c.terms[j].upstream = g[static_cast<int64_t>(j)].data_ptr<float>() + begin;
    if (h.student_stats.defined()) {  // read
      c.stats = h.student_stats.data_ptr<float>() + begin * rows::kStatsPerRow;
      c.stats_known = true;
    }
    torch::Tensor out = in_place ? grad.slice(0, begin, end) : torch::empty({end - begin, vocab}, torch::kFloat);
    c.grad = out.data_ptr<float>();
    at::parallel_for(0, end - begin, kRowsPerTask, [&](int64_t b, int64_t e) {
      const auto floats = static_cast<size_t>(rows::rowBufferFloats(c));
      std::vector<float> w(floats), q(floats);
      rows::backwardRows(c, div, b, e, w.data(), q.data());
    });
    if (!in_place) grad.slice(0, begin, end).copy_(out);
  });
  return grad;
}

#else
// Not on this architecture: logitRows never chooses the fused kernel here.
void fusedValues(const torch::Tensor&, const TermsHolder&, torch::Tensor&) { DISTILL_FAIL("logit rows: no fused kernel"); }
torch::Tensor fusedGradient(const torch::Tensor&, const TermsHolder&, const torch::Tensor&) {
  DISTILL_FAIL("logit rows: no fused kernel");
}
#endif

torch::Tensor values(const torch::Tensor& logits, const TermsHolder& h) {
  torch::NoGradGuard no_grad;
  const int64_t rows = logits.size(0);
  torch::Tensor out = torch::empty({static_cast<int64_t>(h.terms.size()), rows}, logits.options().dtype(torch::kFloat));
  if (h.fused) {
    fusedValues(logits, h, out);
    return out;
  }
  for (int64_t begin = 0; begin < rows; begin += h.chunk) {
    const StudentChunk c = soften(logits, begin, std::min(rows, begin + h.chunk), h.terms, h.d.temperature);
    for (size_t j = 0; j < h.terms.size(); ++j) {
      out[static_cast<int64_t>(j)].slice(0, c.begin, c.end).copy_(valueOf(h.terms[j], c, h.d));
    }
  }
  return out;
}

struct LogitRows : torch::autograd::Function<LogitRows> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& logits,
                               c10::intrusive_ptr<TermsHolder> holder) {
    ctx->save_for_backward({logits});
    ctx->saved_data["terms"] = c10::IValue::make_capsule(holder);
    return values(logits, *holder);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const torch::Tensor& grad_rows = grad_outputs[0];  // [terms, R]
    if (!grad_rows.defined()) return {torch::Tensor(), torch::Tensor()};
    const torch::Tensor logits = ctx->get_saved_variables()[0];
    const auto holder = c10::static_intrusive_pointer_cast<TermsHolder>(ctx->saved_data["terms"].toCapsule());
    torch::NoGradGuard no_grad;
    if (holder->fused) return {fusedGradient(logits, *holder, grad_rows), torch::Tensor()};
    const torch::Tensor g = grad_rows.to(torch::kFloat);
    torch::Tensor grad = torch::empty_like(logits);
    const int64_t rows = logits.size(0);
    for (int64_t begin = 0; begin < rows; begin += holder->chunk) {
      const StudentChunk c = soften(logits, begin, std::min(rows, begin + holder->chunk), holder->terms,
                                    holder->d.temperature);
      grad.slice(0, c.begin, c.end).copy_(chunkGradient(holder->terms, c, g.slice(1, c.begin, c.end), holder->d));
    }
    return {grad, torch::Tensor()};
  }
};

void checkTerm(const LogitTerm& term, const torch::Tensor& student_logits) {
  switch (term.kind) {
    case Kind::kCrossEntropy:
      checkLabels(term.labels, student_logits.size(0), student_logits.size(1));
      return;
    case Kind::kDense:
      checkTeacherLogits(student_logits, term.logits);
      return;
    case Kind::kTopK:
      checkTopK(term.top_k, student_logits, term.vocab);
      return;
  }
}

}  // namespace

bool fusedLogitRows(const torch::Tensor& student_logits) {
#if DISTILL_SIMD_AVX2
  return simd::avx2Available() && student_logits.device().is_cpu();
#else
  (void)student_logits;
  return false;
#endif
}

torch::Tensor logitRows(const torch::Tensor& student_logits, const std::vector<LogitTerm>& terms, const Divergence& d,
                        int64_t chunk, LogitRowsKernel kernel) {
  DISTILL_CHECK(student_logits.dim() == 2, "logit loss: student logits must be [rows, classes], got ",
                student_logits.sizes());
  DISTILL_CHECK(!terms.empty(), "logit loss: no term to compute");
  DISTILL_CHECK(d.temperature > 0, "distill.temperature must be > 0, got ", d.temperature);
  for (const LogitTerm& term : terms) checkTerm(term, student_logits);
  const int64_t rows = student_logits.size(0);
  const int64_t step = chunk <= 0 || chunk >= rows ? std::max<int64_t>(rows, 1) : chunk;
  // The kernel reads every term's tensors through CPU pointers: a term elsewhere keeps the tensor form.
  const bool on_cpu = std::all_of(terms.begin(), terms.end(), [](const LogitTerm& t) {
    return (!t.labels.defined() || t.labels.device().is_cpu()) && (!t.logits.defined() || t.logits.device().is_cpu()) &&
           (t.kind != Kind::kTopK || (t.top_k.log_probs.device().is_cpu() && t.top_k.indices.device().is_cpu() &&
                                      t.top_k.residual.device().is_cpu()));
  });
  const bool fused = kernel == LogitRowsKernel::kAuto && on_cpu && fusedLogitRows(student_logits);
  auto holder = c10::make_intrusive<TermsHolder>(terms, d, step, fused);
  if (!student_logits.requires_grad() || !torch::GradMode::is_enabled()) return values(student_logits, *holder);
  return LogitRows::apply(student_logits, holder);
}

}  // namespace distill::kd
