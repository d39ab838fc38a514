// Embedding MSE reads hidden_states[0] (the embeddings) and nothing else.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/embedding_mse.h"

namespace distill::kd {
namespace {

TEST(EmbeddingMSE, ComparesTheEmbeddingsOnly) {
  // student [L+1=2, B=1, T=1, D=2]: embeddings [1,2], layer 0 [100,100]
  // teacher [L+1=3, 1, 1, 1]: embeddings [4], layers [-50], [-50]
  // W = [[1, 1]]: 1 + 2 = 3 vs 4 -> (3-4)^2 = 1
  torch::Tensor student = torch::tensor({1.0, 2.0, 100.0, 100.0}, torch::kFloat).reshape({2, 1, 1, 2}).requires_grad_();
  const torch::Tensor teacher = torch::tensor({4.0, -50.0, -50.0}, torch::kFloat).reshape({3, 1, 1, 1});
  torch::Tensor w = torch::ones({1, 2}).requires_grad_();
  const torch::Tensor loss = embeddingMSE(student, teacher, torch::ones({1, 1}, torch::kLong), w);
  EXPECT_NEAR(loss.item<double>(), 1.0, 1e-6);
  loss.sum().backward();
  // d/ds_emb = 2 (3 - 4) W = [-2, -2]; the transformer layer gets nothing
  EXPECT_TRUE(torch::allclose(student.grad()[0], torch::full({1, 1, 2}, -2.0))) << student.grad();
  EXPECT_TRUE(torch::equal(student.grad()[1], torch::zeros({1, 1, 2})));
  EXPECT_TRUE(w.grad().defined());
  EXPECT_THROW(embeddingMSE(torch::ones({1, 1, 2}), teacher, torch::ones({1, 1}, torch::kLong), w), Error);
}

}  // namespace
}  // namespace distill::kd
