// The logit loss's closed-form gradients (logit_rows.h) against autograd
// through the reference implementations (crossEntropyPerSample,
// divergenceRows, topKDivergenceRows): every divergence, temperatures 1 and
// 2.5, dense and top-k teachers (k < V and k = V) beside the task term with
// ignored rows, any chunk size, any upstream weights per row and term; and
// top-k teachers alone, where the fused kernel sums forward and reverse KL's
// tails in closed form (divergence_lanes.h, kClosedTail).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <string>
#include <vector>

#include "tests/unit/expect_error.h"
#include "trainer/distill/divergence.h"
#include "trainer/distill/logit_rows.h"
#include "trainer/distill/simd_math.h"
#include "trainer/distill/task_loss.h"
#include "trainer/distill/top_k_divergence.h"
#include "trainer/teachers/top_k.h"

namespace distill::kd {
namespace {

constexpr int64_t kRows = 23, kVocab = 50;

struct Case {
  torch::Tensor student, labels, dense, weights;  // weights: the upstream gradient [terms, R]
  teachers::TopK top5, top_all;
  bool with_dense = true;  // false: the task term and the two top-k teachers only
};

Case makeCase(uint64_t seed) {
  torch::manual_seed(seed);
  Case c;
  c.student = 3 * torch::randn({kRows, kVocab});
  c.labels = torch::randint(0, kVocab, {kRows});
  c.labels.slice(0, 4, 9).fill_(kIgnoreLabel);
  c.dense = 3 * torch::randn({kRows, kVocab});
  c.top5 = teachers::topK(3 * torch::randn({kRows, kVocab}), 5);
  c.top_all = teachers::topK(3 * torch::randn({kRows, kVocab}), kVocab);
  c.weights = torch::rand({4, kRows});
  return c;
}

Case topKOnly(Case c) {
  c.with_dense = false;
  c.weights = c.weights.index_select(0, torch::tensor({0, 2, 3}));
  return c;
}

std::vector<LogitTerm> termsOf(const Case& c) {
  std::vector<LogitTerm> out = {LogitTerm::crossEntropy(c.labels), LogitTerm::topK(c.top5, kVocab),
                                LogitTerm::topK(c.top_all, kVocab)};
  if (c.with_dense) out.insert(out.begin() + 1, LogitTerm::dense(c.dense));
  return out;
}

// The values and the gradient of sum(weights * values), by autograd through the reference functions.
std::pair<torch::Tensor, torch::Tensor> reference(const Case& c, const Divergence& d) {
  torch::Tensor z = c.student.clone().requires_grad_();
  std::vector<torch::Tensor> rows = {crossEntropyPerSample(z, c.labels), topKDivergenceRows(z, c.top5, kVocab, d),
                                     topKDivergenceRows(z, c.top_all, kVocab, d)};
  if (c.with_dense) rows.insert(rows.begin() + 1, divergenceRows(z, c.dense, d));
  const torch::Tensor values = torch::stack(rows);
  (values * c.weights).sum().backward();
  return {values.detach(), z.grad()};
}

std::pair<torch::Tensor, torch::Tensor> closedForm(const Case& c, const Divergence& d, int64_t chunk,
                                                   torch::ScalarType dtype = torch::kFloat,
                                                   LogitRowsKernel kernel = LogitRowsKernel::kAuto) {
  torch::Tensor z = c.student.detach().to(dtype).clone().requires_grad_();  // a leaf of its own
  const torch::Tensor values = logitRows(z, termsOf(c), d, chunk, kernel);
  (values * c.weights).sum().backward();
  return {values.detach(), z.grad()};
}

std::vector<Divergence> everyDivergence() {
  std::vector<Divergence> out;
  for (double t : {1.0, 2.5}) {
    for (const std::string& name : divergenceNames()) {
      Divergence d;
      d.name = name;
      d.temperature = t;
      d.beta = 0.4;
      d.alpha = 0.2;
      out.push_back(d);
    }
    Divergence limit;  // jsd at its limits, the skews at alpha 0
    limit.temperature = t;
    for (double beta : {0.0, 1.0}) {
      limit.name = "jsd";
      limit.beta = beta;
      out.push_back(limit);
    }
    for (const char* skew : {"skew_kl", "skew_reverse_kl"}) {
      limit.name = skew;
      limit.alpha = 0;
      out.push_back(limit);
    }
  }
  return out;
}

std::string nameOf(const Divergence& d) {
  return d.name + " T=" + std::to_string(d.temperature) + " beta=" + std::to_string(d.beta) +
         " alpha=" + std::to_string(d.alpha);
}

// Both kernels: the fused rows (kAuto, on this CPU when it has AVX2) and the tensor form.
TEST(LogitRows, ValuesAndGradientsEqualAutogradForEveryDivergence) {
  for (const Case& c : {makeCase(3), topKOnly(makeCase(4))}) {
    SCOPED_TRACE(c.with_dense ? "with a dense teacher" : "top-k teachers only");
    for (const Divergence& d : everyDivergence()) {
      const auto [want_values, want_grad] = reference(c, d);
      for (LogitRowsKernel kernel : {LogitRowsKernel::kAuto, LogitRowsKernel::kTensor}) {
        const char* kernel_name = kernel == LogitRowsKernel::kAuto ? "auto" : "tensor";
        for (int64_t chunk : {int64_t{-1}, int64_t{0}, int64_t{1}, int64_t{7}, kRows, kRows + 5}) {
          const auto [values, grad] = closedForm(c, d, chunk, torch::kFloat, kernel);
          EXPECT_TRUE(torch::allclose(values, want_values, 1e-4, 1e-5))
              << nameOf(d) << " chunk " << chunk << " kernel " << kernel_name << ": largest difference "
              << (values - want_values).abs().max().item<double>();
          EXPECT_TRUE(torch::allclose(grad, want_grad, 1e-4, 1e-6))
              << nameOf(d) << " chunk " << chunk << " kernel " << kernel_name << ": largest difference "
              << (grad - want_grad).abs().max().item<double>() << " of " << want_grad.abs().max().item<double>();
        }
      }
    }
  }
}

// A vocabulary of several of the fused kernel's spans (its partial sums move to a double every
// 2048 tokens) and not a multiple of its eight lanes: the fused rows equal the tensor form's.
TEST(LogitRows, FusedRowsEqualTheTensorFormOnALargeVocabulary) {
  const int64_t rows = 6, vocab = 5003;
  torch::manual_seed(11);
  const torch::Tensor student = 4 * torch::randn({rows, vocab});
  if (!fusedLogitRows(student)) GTEST_SKIP() << "no AVX2 and FMA on this CPU: the fused kernel is not used here";
  torch::Tensor labels = torch::randint(0, vocab, {rows});
  labels[1] = kIgnoreLabel;
  const LogitTerm dense = LogitTerm::dense(4 * torch::randn({rows, vocab}));
  const LogitTerm top64 = LogitTerm::topK(teachers::topK(4 * torch::randn({rows, vocab}), 64), vocab);
  const torch::Tensor weights = torch::rand({3, rows});
  for (bool with_dense : {true, false}) {  // without: forward and reverse KL's tails in closed form
    std::vector<LogitTerm> terms = {LogitTerm::crossEntropy(labels), top64};
    if (with_dense) terms.insert(terms.begin() + 1, dense);
    for (const Divergence& d : everyDivergence()) {
      std::vector<torch::Tensor> got;
      for (LogitRowsKernel kernel : {LogitRowsKernel::kAuto, LogitRowsKernel::kTensor}) {
        torch::Tensor z = student.clone().requires_grad_();
        const torch::Tensor values = logitRows(z, terms, d, 4, kernel);
        (values * weights.slice(0, 0, values.size(0))).sum().backward();
        got.push_back(values.detach());
        got.push_back(z.grad());
      }
      EXPECT_TRUE(torch::allclose(got[0], got[2], 1e-4, 1e-5))
          << nameOf(d) << ": values " << got[0] << " against " << got[2];
      EXPECT_TRUE(torch::allclose(got[1], got[3], 1e-4, 1e-6))
          << nameOf(d) << (with_dense ? "" : ", top-k only") << ": largest gradient difference "
          << (got[1] - got[3]).abs().max().item<double>();
    }
  }
}

// A NaN in the student's logits is a NaN in its row's values and gradient, in either kernel
// (the step's non-finite checks must see it), never a finite loss.
TEST(LogitRows, ANaNLogitMakesItsRowNaNInEitherKernel) {
  Case c = makeCase(12);
  c.student[2][17] = std::numeric_limits<float>::quiet_NaN();
  // tvd: bounded, the divergence least likely to carry a NaN by itself; the KLs with top-k
  // teachers only: their tails in closed form, from the row's moments.
  for (const auto& [name, with_dense] : std::vector<std::pair<std::string, bool>>{
           {"tvd", true}, {"reverse_kl", false}, {"forward_kl", false}}) {
    Divergence d;
    d.name = name;
    const Case used = with_dense ? c : topKOnly(c);
    for (LogitRowsKernel kernel : {LogitRowsKernel::kAuto, LogitRowsKernel::kTensor}) {
      torch::Tensor z = used.student.clone().requires_grad_();
      const torch::Tensor values = logitRows(z, termsOf(used), d, 4, kernel);
      // Every value with tvd. The KLs' tensor form counts q log q as 0 where q > 0 fails (a NaN q
      // too): the task's value then, and the fused kernel's closed-form tail (k < V) as well.
      const torch::Tensor nan = torch::isnan(values.select(1, 2));
      const int64_t must = with_dense ? nan.size(0) : kernel == LogitRowsKernel::kAuto && fusedLogitRows(z) ? 2 : 1;
      EXPECT_TRUE(nan.slice(0, 0, must).all().item<bool>()) << name << values.select(1, 2);
      EXPECT_TRUE(torch::isfinite(values.select(1, 3)).all().item<bool>()) << name;
      values.sum().backward();
      EXPECT_TRUE(torch::isnan(z.grad()[2]).any().item<bool>()) << name << ": the gradient hides the NaN";
    }
  }
}

// A student that cannot emit some tokens (-inf logits, a masked vocabulary), top-k teachers
// only: reverse KL's tail in closed form counts q log q as 0 there. The values are autograd's
// reference's; its gradient is NaN there (through log 0), so the gradient is the tensor form's.
TEST(LogitRows, StudentWithoutSomeClassesMatchesAutogradWithTopKTeachers) {
  Case c = topKOnly(makeCase(13));
  c.student.slice(1, 35, kVocab).fill_(-std::numeric_limits<float>::infinity());
  c.labels.clamp_max_(34);
  c.labels.slice(0, 4, 9).fill_(kIgnoreLabel);
  Divergence d;
  d.name = "reverse_kl";
  for (double t : {1.0, 2.5}) {
    d.temperature = t;
    const torch::Tensor want_values = reference(c, d).first;
    const auto [values, grad] = closedForm(c, d, 5);
    const auto [tensor_values, tensor_grad] = closedForm(c, d, 5, torch::kFloat, LogitRowsKernel::kTensor);
    EXPECT_TRUE(torch::isfinite(values).all().item<bool>()) << values;
    EXPECT_TRUE(torch::allclose(values, want_values, 1e-4, 1e-5)) << (values - want_values).abs().max();
    EXPECT_TRUE(torch::isfinite(grad).all().item<bool>());
    EXPECT_TRUE(torch::allclose(grad, tensor_grad, 1e-4, 1e-6)) << (grad - tensor_grad).abs().max();
    EXPECT_EQ(grad.slice(1, 35, kVocab).abs().max().item<float>(), 0.0f);  // no gradient where q is 0
  }
}

#if DISTILL_SIMD_AVX2
// simd::exp, simd::log and simd::logAddExp on a float tensor, eight at a time.
enum class Lanes { kExp, kLog, kLogAddExpOfOne };
DISTILL_AVX2 void applyLanes(Lanes f, const float* in, float* out, int64_t n) {
  for (int64_t c = 0; c < n; c += simd::kLanes) {
    const simd::Vec x = simd::load(in + c, n - c, 1.0f);
    const simd::Vec y = f == Lanes::kExp   ? simd::exp(x)
                        : f == Lanes::kLog ? simd::log(x)
                                           : simd::logAddExp(x, simd::splat(1.0f));
    simd::store(out + c, y, n - c);
  }
}

torch::Tensor onLanes(Lanes f, const torch::Tensor& x) {
  const torch::Tensor in = x.contiguous();
  torch::Tensor out = torch::empty_like(in);
  applyLanes(f, in.data_ptr<float>(), out.data_ptr<float>(), in.numel());
  return out;
}

TEST(SimdMath, ExpLogAndLogAddExpMatchTheLibraryToFloatRounding) {
  if (!simd::avx2Available()) GTEST_SKIP() << "no AVX2 and FMA on this CPU: the fused kernel is not used here";
  const float inf = std::numeric_limits<float>::infinity();
  // exp over the range the kernels use (x <= 0), and exactly 0 at -inf and below log(FLT_MIN).
  const torch::Tensor x = torch::cat({torch::linspace(-87, 0, 100003), torch::rand({1001}) * 5,
                                      torch::tensor({-inf, -1e4f, -88.0f, -87.5f})});
  const torch::Tensor e = onLanes(Lanes::kExp, x), want_e = x.to(torch::kDouble).exp();
  const torch::Tensor finite = want_e > 1.2e-38;
  EXPECT_LT(((e.to(torch::kDouble) - want_e).abs() / want_e).masked_select(finite).max().item<double>(), 4e-7);
  EXPECT_EQ(e.slice(0, -4).abs().max().item<float>(), 0.0f);
  // log of normal positive floats, tiny to huge, and of [1, 2] where logAddExp takes it.
  const torch::Tensor y = torch::cat({torch::exp(torch::linspace(-80, 80, 100003)), 1 + torch::rand({1001})});
  const torch::Tensor l = onLanes(Lanes::kLog, y), want_l = y.to(torch::kDouble).log();
  EXPECT_LT((l.to(torch::kDouble) - want_l).abs().max().item<double>(), 1e-5);
  EXPECT_LT(((l.to(torch::kDouble) - want_l).abs() / want_l.abs().clamp_min(1e-3)).max().item<double>(), 4e-7);
  // log(e^x + e^1), -inf + 1 included.
  const torch::Tensor a = torch::cat({torch::linspace(-100, 100, 10007), torch::tensor({-inf})});
  const torch::Tensor got = onLanes(Lanes::kLogAddExpOfOne, a);
  const torch::Tensor want = torch::logaddexp(a.to(torch::kDouble), torch::ones({1}, torch::kDouble));
  EXPECT_LT((got.to(torch::kDouble) - want).abs().max().item<double>(), 2e-6);
  // NaN stays NaN.
  const torch::Tensor nan = torch::full({3}, std::numeric_limits<float>::quiet_NaN());
  EXPECT_TRUE(torch::isnan(onLanes(Lanes::kExp, nan)).all().item<bool>());
  EXPECT_TRUE(torch::isnan(onLanes(Lanes::kLogAddExpOfOne, nan)).all().item<bool>());
}
#endif

TEST(LogitRows, IgnoredRowsGetNoGradientFromTheTaskTerm) {
  const Case c = makeCase(4);
  torch::Tensor z = c.student.clone().requires_grad_();
  logitRows(z, {LogitTerm::crossEntropy(c.labels)}, Divergence{}, 5).sum().backward();
  EXPECT_EQ(z.grad().slice(0, 4, 9).abs().max().item<double>(), 0.0);
  EXPECT_GT(z.grad().slice(0, 0, 4).abs().min().item<double>(), 0.0);
  // softmax - onehot: each row's gradient sums to 0.
  EXPECT_LT(z.grad().sum(1).abs().max().item<double>(), 1e-6);
}

// The dense teacher's term alone, weighted per row: finite, and autograd's gradient.
void expectDenseGradientLikeAutograd(const Case& c, const Divergence& d) {
  torch::Tensor want_z = c.student.clone().requires_grad_();
  (divergenceRows(want_z, c.dense, d) * c.weights[1]).sum().backward();
  torch::Tensor z = c.student.clone().requires_grad_();
  (logitRows(z, {LogitTerm::dense(c.dense)}, d, 6)[0] * c.weights[1]).sum().backward();
  EXPECT_TRUE(torch::isfinite(z.grad()).all().item<bool>()) << nameOf(d);
  EXPECT_TRUE(torch::allclose(z.grad(), want_z.grad(), 1e-4, 1e-6)) << nameOf(d);
}

TEST(LogitRows, TeacherWithoutSomeClassesMatchesAutograd) {
  // An amalgamation teacher knows some of the student's classes only: -inf logits, probability 0.
  Case c = makeCase(5);
  c.dense.slice(1, 30, kVocab).fill_(-std::numeric_limits<float>::infinity());
  for (const char* name : {"forward_kl", "jsd", "skew_kl", "skew_reverse_kl", "tvd"}) {
    Divergence d;
    d.name = name;
    d.temperature = 2;
    d.alpha = 0.2;
    expectDenseGradientLikeAutograd(c, d);
  }
}

TEST(LogitRows, TeacherWithTinyProbabilitiesGivesFiniteGradientsAtTheLimits) {
  // Finite but very negative teacher logits (a padded vocabulary): p underflows to 0 in
  // float32, the skews at alpha 0 must not form 0 * inf.
  Case c = makeCase(9);
  c.dense.slice(1, 40, kVocab).fill_(-1e4);
  for (const char* name : {"skew_kl", "skew_reverse_kl", "reverse_kl", "jsd"}) {
    Divergence d;
    d.name = name;
    d.alpha = 0;
    d.beta = 1;
    expectDenseGradientLikeAutograd(c, d);
  }
}

TEST(LogitRows, Bfloat16LogitsGetABfloat16GradientOfTheSameValue) {
  const Case c = makeCase(6);
  Divergence d;
  d.name = "reverse_kl";
  d.temperature = 2;
  const auto [want_values, want_grad] = closedForm(c, d, 0);
  Case rounded = c;
  rounded.student = c.student.to(torch::kBFloat16).to(torch::kFloat);
  const auto [values, grad] = closedForm(rounded, d, 8, torch::kBFloat16);
  EXPECT_EQ(grad.scalar_type(), torch::kBFloat16);
  const auto [exact_values, exact_grad] = reference(rounded, d);
  EXPECT_TRUE(torch::allclose(values, exact_values, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(grad.to(torch::kFloat), exact_grad, 1e-2, 1e-3));
}

// bf16 logits over more rows than the fused kernel converts at a time (64), unchunked: the
// same values and gradient as the tensor form's.
TEST(LogitRows, Bfloat16RowsConvertedInBlocksEqualTheTensorForm) {
  const int64_t rows = 150, vocab = 300;
  torch::manual_seed(14);
  const torch::Tensor student = (3 * torch::randn({rows, vocab})).to(torch::kBFloat16);
  torch::Tensor labels = torch::randint(0, vocab, {rows});
  labels.slice(0, 60, 70).fill_(kIgnoreLabel);
  const std::vector<LogitTerm> terms = {LogitTerm::crossEntropy(labels),
                                        LogitTerm::topK(teachers::topK(3 * torch::randn({rows, vocab}), 16), vocab)};
  const torch::Tensor weights = torch::rand({2, rows});
  Divergence d;
  d.name = "reverse_kl";
  std::vector<torch::Tensor> got;
  for (LogitRowsKernel kernel : {LogitRowsKernel::kAuto, LogitRowsKernel::kTensor}) {
    torch::Tensor z = student.clone().requires_grad_();
    const torch::Tensor values = logitRows(z, terms, d, -1, kernel);
    (values * weights).sum().backward();
    got.push_back(values.detach());
    got.push_back(z.grad().to(torch::kFloat));
  }
  EXPECT_TRUE(torch::allclose(got[0], got[2], 1e-4, 1e-5)) << (got[0] - got[2]).abs().max();
  EXPECT_TRUE(torch::allclose(got[1], got[3], 1e-2, 1e-3)) << (got[1] - got[3]).abs().max();
}

TEST(LogitRows, EvaluationWithoutGradientGivesTheSameValues) {
  const Case c = makeCase(7);
  Divergence d;
  d.name = "jsd";
  d.temperature = 1.5;
  const auto [want, unused] = reference(c, d);
  torch::NoGradGuard no_grad;
  const torch::Tensor trainable = c.student.clone().requires_grad_();  // evaluated under no_grad: no graph
  const torch::Tensor values = logitRows(trainable, termsOf(c), d, 4);
  EXPECT_FALSE(values.requires_grad());
  EXPECT_TRUE(torch::allclose(values, want, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(logitRows(c.student, termsOf(c), d, 0), want, 1e-4, 1e-5));
}

TEST(LogitRows, BadInputIsNamed) {
  const Case c = makeCase(8);
  const Divergence d;
  torch::Tensor labels = c.labels.clone();
  labels[2] = kVocab;
  testing::expectError([&] { logitRows(c.student, {LogitTerm::crossEntropy(labels)}, d, 4); },
                       {"a label is outside [0, 50)"});
  testing::expectError([&] { logitRows(c.student, {LogitTerm::dense(c.dense.slice(1, 0, 40))}, d, 4); },
                       {"teacher logits [23, 40] do not match student logits [23, 50]"});
  testing::expectError([&] { logitRows(c.student, {LogitTerm::topK(c.top5, 60)}, d, 4); },
                       {"are not [rows, 60] (the teacher's vocabulary)"});
  testing::expectError([&] { logitRows(c.student, {}, d, 4); }, {"no term"});
  teachers::TopK out_of_range = c.top5;
  out_of_range.indices = c.top5.indices.clone();
  out_of_range.indices[7][2] = kVocab + 3;  // a corrupt cache: an id past the vocabulary
  testing::expectError([&] { logitRows(c.student, {LogitTerm::topK(out_of_range, kVocab)}, d, 4); },
                       {"token id 53 (row 7, entry 2) is outside [0, 50)"});
}

}  // namespace
}  // namespace distill::kd
