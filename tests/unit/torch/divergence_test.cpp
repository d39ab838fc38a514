// The divergences of distill.divergence against hand-computed values, their
// limits (JSD at beta 0 and 1, the skews at alpha 0), the T^2 scaling, zero
// teacher probabilities, and hand-derived gradients.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/divergence.h"

namespace distill::kd {
namespace {

torch::Tensor rows(std::vector<double> values, int64_t classes) {
  return torch::tensor(values, torch::kFloat).reshape({-1, classes});
}

Divergence named(const std::string& name, double temperature = 1.0) {
  Divergence d;
  d.name = name;
  d.temperature = temperature;
  return d;
}

double kl(std::vector<double> a, std::vector<double> b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += a[i] > 0 ? a[i] * std::log(a[i] / b[i]) : 0.0;
  return sum;
}

// Teacher [ln 3, 0] -> p = [3/4, 1/4]; student [0, 0] -> q = [1/2, 1/2].
const std::vector<double> kP = {0.75, 0.25}, kQ = {0.5, 0.5};
double value(const Divergence& d) {
  return divergenceRows(rows({0, 0}, 2), rows({std::log(3.0), 0}, 2), d).item<double>();
}

TEST(Divergence, ForwardAndReverseKLMatchHandComputedValues) {
  EXPECT_NEAR(value(named("forward_kl")), 0.130812, 1e-6);  // 3/4 ln(3/2) + 1/4 ln(1/2)
  EXPECT_NEAR(value(named("reverse_kl")), 0.143841, 1e-6);  // 1/2 ln(2/3) + 1/2 ln 2
  EXPECT_NEAR(value(named("reverse_kl")), kl(kQ, kP), 1e-6);
}

TEST(Divergence, GeneralizedJsdMatchesHandComputedValue) {
  Divergence d = named("jsd");
  d.beta = 0.5;  // m = [0.625, 0.375]
  const std::vector<double> m = {0.625, 0.375};
  EXPECT_NEAR(value(d), 0.5 * kl(kP, m) + 0.5 * kl(kQ, m), 1e-6);
  EXPECT_NEAR(value(d), 0.033822, 1e-6);
  d.beta = 0.2;  // m = 0.2 p + 0.8 q = [0.55, 0.45]
  EXPECT_NEAR(value(d), 0.2 * kl(kP, {0.55, 0.45}) + 0.8 * kl(kQ, {0.55, 0.45}), 1e-6);
}

TEST(Divergence, JsdLimitsAreForwardKLAtBetaZeroAndReverseKLAtBetaOne) {
  Divergence d = named("jsd");
  d.beta = 0;
  EXPECT_DOUBLE_EQ(value(d), value(named("forward_kl")));
  d.beta = 1;
  EXPECT_DOUBLE_EQ(value(d), value(named("reverse_kl")));
  // ... the limits of JSD/beta and JSD/(1 - beta) as beta approaches them.
  d.beta = 1e-3;
  EXPECT_NEAR(value(d) / d.beta, value(named("forward_kl")), 1e-3);
  d.beta = 1 - 1e-3;
  EXPECT_NEAR(value(d) / (1 - d.beta), value(named("reverse_kl")), 1e-3);
}

TEST(Divergence, SkewsMatchHandComputedValuesAndReduceToKLAtAlphaZero) {
  Divergence skew = named("skew_kl"), skew_reverse = named("skew_reverse_kl");
  skew.alpha = skew_reverse.alpha = 0.1;
  EXPECT_NEAR(value(skew), kl(kP, {0.525, 0.475}), 1e-6);          // m = 0.1 p + 0.9 q
  EXPECT_NEAR(value(skew_reverse), kl(kQ, {0.725, 0.275}), 1e-6);  // m = 0.1 q + 0.9 p
  skew.alpha = skew_reverse.alpha = 0;
  EXPECT_NEAR(value(skew), value(named("forward_kl")), 1e-7);
  EXPECT_NEAR(value(skew_reverse), value(named("reverse_kl")), 1e-7);
}

TEST(Divergence, TotalVariationIsHalfTheL1Distance) { EXPECT_NEAR(value(named("tvd")), 0.25, 1e-7); }

TEST(Divergence, EveryDivergenceIsZeroForEqualLogitsAndPositiveOtherwise) {
  torch::manual_seed(3);
  const torch::Tensor s = torch::randn({6, 9}), t = torch::randn({6, 9});
  for (const auto& name : divergenceNames()) {
    const Divergence d = named(name, 1.5);
    EXPECT_LT(divergenceRows(s, s.clone(), d).abs().max().item<double>(), 1e-5) << name;
    EXPECT_GT(divergenceRows(s, t, d).min().item<double>(), 0) << name;
  }
}

TEST(Divergence, EveryDivergenceScalesByTemperatureSquared) {
  torch::manual_seed(4);
  const torch::Tensor s = torch::randn({5, 7}), t = torch::randn({5, 7});
  const double temperature = 3.0;
  for (const auto& name : divergenceNames()) {
    // At T the distributions of (T s, T t) are those of (s, t) at 1: the value is T^2 larger.
    const torch::Tensor base = divergenceRows(s, t, named(name, 1.0));
    const torch::Tensor scaled = divergenceRows(s * temperature, t * temperature, named(name, temperature));
    EXPECT_TRUE(torch::allclose(scaled, base * (temperature * temperature), 1e-4, 1e-6)) << name;
  }
}

TEST(Divergence, GradientsMatchHandDerivedValues) {
  // reverse KL: d/ds = q (log q - log p - RKL) = 1/2 [ln(2/3) - 0.143841, ln 2 - 0.143841]
  torch::Tensor s = rows({0, 0}, 2).requires_grad_();
  divergenceRows(s, rows({std::log(3.0), 0}, 2), named("reverse_kl")).sum().backward();
  EXPECT_TRUE(torch::allclose(s.grad(), rows({-0.274653, 0.274653}, 2), 1e-5, 1e-6)) << s.grad();
  // tvd: d/ds = q (g - <q, g>) with g = 1/2 sign(q - p) = [-1/2, 1/2]: [-1/4, 1/4]
  s.mutable_grad().zero_();
  divergenceRows(s, rows({std::log(3.0), 0}, 2), named("tvd")).sum().backward();
  EXPECT_TRUE(torch::allclose(s.grad(), rows({-0.25, 0.25}, 2), 1e-5, 1e-6)) << s.grad();
  // jsd at beta 1/2: d/ds = q (g - <q, g>), g = (1 - beta) ln(q / m)
  s.mutable_grad().zero_();
  Divergence jsd = named("jsd");
  divergenceRows(s, rows({std::log(3.0), 0}, 2), jsd).sum().backward();
  const double g0 = 0.5 * std::log(0.5 / 0.625), g1 = 0.5 * std::log(0.5 / 0.375), mean = 0.5 * (g0 + g1);
  EXPECT_TRUE(torch::allclose(s.grad(), rows({0.5 * (g0 - mean), 0.5 * (g1 - mean)}, 2), 1e-5, 1e-6)) << s.grad();
}

TEST(Divergence, ClassesTheTeacherDoesNotKnowCountAsProbabilityZero) {
  const double inf = std::numeric_limits<double>::infinity();
  const torch::Tensor teacher = rows({std::log(3.0), 0, -inf}, 3), student = rows({0, 0, 0}, 3);
  for (const std::string name : {"forward_kl", "jsd", "skew_kl", "skew_reverse_kl", "tvd"}) {
    torch::Tensor s = student.clone().requires_grad_();
    const torch::Tensor v = divergenceRows(s, teacher, named(name));
    v.sum().backward();
    EXPECT_TRUE(std::isfinite(v.item<double>())) << name;
    EXPECT_TRUE(torch::isfinite(s.grad()).all().item<bool>()) << name << s.grad();
  }
  EXPECT_TRUE(std::isinf(divergenceRows(student, teacher, named("reverse_kl")).item<double>()));
}

TEST(Divergence, BadNamesParametersAndShapesAreErrors) {
  EXPECT_THROW(value(named("hellinger")), Error);
  Divergence d = named("jsd");
  d.beta = 1.5;
  EXPECT_THROW(value(d), Error);
  d = named("skew_kl");
  d.alpha = 1.0;
  EXPECT_THROW(value(d), Error);
  EXPECT_THROW(divergenceRows(torch::zeros({2, 3}), torch::zeros({2, 4}), named("tvd")), Error);
}

}  // namespace
}  // namespace distill::kd
