// Criteria that score from gradients, against hand-computed values: Taylor
// |g*W| accumulated, Fisher mean g^2, movement S <- S - g*W (hard) and the
// soft variant with its regulariser and threshold.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "trainer/sparsity/criterion.h"
#include "trainer/sparsity/fisher_criterion.h"
#include "trainer/sparsity/movement_criterion.h"
#include "trainer/sparsity/soft_movement_criterion.h"
#include "trainer/sparsity/taylor_criterion.h"

namespace distill::sparsity {
namespace {

// One parameter W with gradient g.
std::vector<NamedTensor> withGrad(std::vector<float> w, std::vector<float> g) {
  torch::Tensor p = torch::tensor(w).reshape({2, 2}).requires_grad_(true);
  p.mutable_grad() = torch::tensor(g).reshape({2, 2});
  return {{"w", p}};
}

void expectEq(const torch::Tensor& got, std::vector<float> want) {
  EXPECT_TRUE(torch::allclose(got.reshape({-1}).to(torch::kFloat), torch::tensor(want), 1e-6, 1e-7)) << got;
}

TEST(TaylorCriterion, AccumulatesAbsGradTimesWeightUntilTheMasksUpdate) {
  TaylorCriterion c;
  auto a = withGrad({1, -2, 3, 0}, {0.5, 0.5, -1, 9});
  c.attach(a);
  c.observe(a);
  auto b = withGrad({1, -2, 3, 0}, {-1, 0, 1, 1});
  c.observe(b);
  // |0.5*1| + |-1*1| = 1.5; |0.5*-2| + 0 = 1; |-1*3| + |1*3| = 6; 0
  expectEq(c.score("w", a[0].tensor), {1.5, 1, 6, 0});
  c.onMasksUpdated();
  expectEq(c.score("w", a[0].tensor), {0, 0, 0, 0});
}

TEST(FisherCriterion, MeanSquaredGradientSinceTheLastUpdate) {
  FisherCriterion c;
  auto a = withGrad({1, 1, 1, 1}, {1, 2, 0, -3});
  c.attach(a);
  c.observe(a);
  c.observe(withGrad({1, 1, 1, 1}, {3, 0, 0, 1}));
  expectEq(c.score("w", a[0].tensor), {5, 2, 0, 5});  // (1+9)/2, (4+0)/2, 0, (9+1)/2
  c.onMasksUpdated();
  c.observe(withGrad({1, 1, 1, 1}, {2, 2, 2, 2}));
  expectEq(c.score("w", a[0].tensor), {4, 4, 4, 4});
  ASSERT_EQ(c.state().size(), 2u);  // sums + count
}

TEST(MovementCriterion, ScoresMoveByMinusGradTimesWeight) {
  MovementCriterion c;
  auto a = withGrad({1, -2, 3, 0.5}, {0.5, 0.5, -1, 2});
  c.attach(a);
  c.observe(a);
  // S = -g*W = -0.5, 1, 3, -1
  expectEq(c.score("w", a[0].tensor), {-0.5, 1, 3, -1});
  c.observe(withGrad({1, -2, 3, 0.5}, {-1, 0, 0, 0}));
  expectEq(c.score("w", a[0].tensor), {0.5, 1, 3, -1});
  c.onMasksUpdated();  // movement scores are never reset
  expectEq(c.score("w", a[0].tensor), {0.5, 1, 3, -1});
  EXPECT_FALSE(c.threshold().has_value());
}

TEST(SoftMovementCriterion, RegulariserPullsScoresDownAndThresholdDecides) {
  SoftMovementCriterion c(/*threshold=*/0.0, /*score_init=*/0.0, /*score_lr=*/2.0, /*regularizer=*/1.0);
  auto a = withGrad({1, -2, 3, 0}, {0.5, 0.5, -1, 0});
  c.attach(a);
  c.observe(a);
  // S <- 0 - 2 * (g*W + 1 * sigmoid(0) * (1 - sigmoid(0))) = -2 * (g*W + 0.25)
  expectEq(c.score("w", a[0].tensor), {-1.5, 1.5, 5.5, -0.5});
  ASSERT_TRUE(c.threshold().has_value());
  EXPECT_EQ(*c.threshold(), 0.0);
}

TEST(CriterionRegistry, ListsEveryCriterion) {
  EXPECT_EQ(criterionNames(), (std::vector<std::string>{"magnitude", "taylor", "fisher", "movement",
                                                        "soft_movement", "pst", "learned"}));
  config::SparsitySpec s;
  s.set_criterion("movement");
  EXPECT_EQ(makeCriterion(s)->name(), "movement");
}

}  // namespace
}  // namespace distill::sparsity
