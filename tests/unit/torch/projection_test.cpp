// Projections: stable names, deterministic seeded initialisation, application.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/projection.h"

namespace distill::kd {
namespace {

TEST(Projection, Names) {
  EXPECT_EQ(projectionName("hidden_mse", "big", 3), "projections/hidden_mse/big/3");
  EXPECT_EQ(projectionName("emb", "big", -1), "projections/emb/big/embeddings");
}

TEST(Projection, InitialisationIsSeededAndBounded) {
  const torch::Tensor a = initProjection(3, 4, 7, "projections/x/t/0");
  EXPECT_EQ(a.sizes(), torch::IntArrayRef({3, 4}));
  EXPECT_TRUE(a.requires_grad());
  EXPECT_TRUE(a.is_leaf());
  EXPECT_EQ(a.scalar_type(), torch::kFloat);
  EXPECT_LE(a.abs().max().item<double>(), 0.5);  // 1/sqrt(4)
  EXPECT_TRUE(torch::equal(a, initProjection(3, 4, 7, "projections/x/t/0")));
  EXPECT_FALSE(torch::equal(a, initProjection(3, 4, 8, "projections/x/t/0")));
  EXPECT_FALSE(torch::equal(a, initProjection(3, 4, 7, "projections/x/t/1")));
  EXPECT_THROW(initProjection(0, 4, 7, "p"), Error);
}

TEST(Projection, ApplyMapsTheLastDimension) {
  const torch::Tensor x = torch::tensor({1.0, 2.0, 3.0, 4.0}, torch::kFloat).reshape({1, 2, 2});
  const torch::Tensor w = torch::tensor({1.0, 1.0, 0.0, 2.0, 1.0, -1.0}, torch::kFloat).reshape({3, 2});
  // [1,2] -> [3, 4, -1]; [3,4] -> [7, 8, -1]
  EXPECT_TRUE(torch::equal(applyProjection(x, w, 3, "t"),
                           torch::tensor({3.0, 4.0, -1.0, 7.0, 8.0, -1.0}, torch::kFloat).reshape({1, 2, 3})));
  EXPECT_TRUE(torch::equal(applyProjection(x, {}, 2, "t"), x));
  EXPECT_THROW(applyProjection(x, {}, 3, "t"), Error);
  EXPECT_THROW(applyProjection(x, w, 4, "t"), Error);
}

}  // namespace
}  // namespace distill::kd
