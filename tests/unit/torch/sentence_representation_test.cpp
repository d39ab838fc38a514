// The masked mean over real tokens.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/sentence_representation.h"

namespace distill::kd {
namespace {

TEST(SentenceRepresentation, MeanOverRealTokensOnly) {
  // sample 0: tokens [1,2], [3,4], padding [100,100] -> [2,3]; sample 1: no real token -> [0,0]
  const torch::Tensor hidden =
      torch::tensor({1, 2, 3, 4, 100, 100, 5, 5, 5, 5, 5, 5}, torch::kFloat).reshape({2, 3, 2});
  const torch::Tensor mask = torch::tensor({1, 1, 0, 0, 0, 0}, torch::kLong).reshape({2, 3});
  EXPECT_TRUE(torch::allclose(maskedMean(hidden, mask), torch::tensor({2, 3, 0, 0}, torch::kFloat).reshape({2, 2})));
  EXPECT_THROW(maskedMean(hidden, torch::ones({2, 2}, torch::kLong)), Error);
}

}  // namespace
}  // namespace distill::kd
