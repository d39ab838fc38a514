// Attention-map MSE by hand: averaged and mapped heads, padded positions ignored.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/attention_mse.h"

namespace distill::kd {
namespace {

// Student, 2 heads over 2 tokens: head 0 [[1,0],[.5,.5]], head 1 [[0,1],[.5,.5]]
// (mean over heads: all 0.5). Padded to 3 tokens with junk in the padding.
torch::Tensor studentMaps() {
  return torch::tensor({1.0, 0.0, 9.0, 0.5, 0.5, 9.0, 9.0, 9.0, 9.0,  //
                        0.0, 1.0, 9.0, 0.5, 0.5, 9.0, 9.0, 9.0, 9.0},
                       torch::kFloat)
      .reshape({1, 2, 3, 3});
}

// Teacher: every head the identity [[1,0],[0,1]] on the real tokens.
torch::Tensor teacherMaps(int64_t heads) {
  torch::Tensor one = torch::tensor({1.0, 0.0, -7.0, 0.0, 1.0, -7.0, -7.0, -7.0, -7.0}, torch::kFloat).reshape({1, 1, 3, 3});
  return one.expand({1, heads, 3, 3}).contiguous();
}

const torch::Tensor kMask = torch::tensor({1, 1, 0}, torch::kLong).reshape({1, 3});

TEST(AttentionMSE, AverageHeadsWorksAcrossHeadCounts) {
  // mean student [[.5,.5],[.5,.5]] vs teacher identity: four squared errors of .25 -> 1 / 4 real pairs = 0.25
  const torch::Tensor loss = attentionMSE(studentMaps(), teacherMaps(1), kMask, AttentionHeads::kAverage);
  ASSERT_EQ(loss.sizes(), torch::IntArrayRef({1}));
  EXPECT_NEAR(loss.item<double>(), 0.25, 1e-6);
  EXPECT_NEAR(attentionMSE(studentMaps(), teacherMaps(3), kMask, AttentionHeads::kAverage).item<double>(), 0.25, 1e-6);
}

TEST(AttentionMSE, MappedHeadsCompareHeadByHead) {
  // head 0: [[1,0],[.5,.5]] - I -> 0, 0, .25, .25 -> 0.5
  // head 1: [[0,1],[.5,.5]] - I -> 1, 1, .25, .25 -> 2.5
  // (0.5 + 2.5) / (2 heads * 4 pairs) = 0.375
  torch::Tensor student = studentMaps().requires_grad_();
  torch::Tensor teacher = teacherMaps(2).requires_grad_();
  const torch::Tensor loss = attentionMSE(student, teacher, kMask, AttentionHeads::kMapped);
  EXPECT_NEAR(loss.item<double>(), 0.375, 1e-6);
  loss.sum().backward();
  // d/dA_s = 2 (A_s - A_t) / 8 on real pairs: head 1, query 0, key 1 -> 2 * 1 / 8 = 0.25; padding 0
  EXPECT_NEAR(student.grad()[0][1][0][1].item<double>(), 0.25, 1e-6);
  EXPECT_EQ(student.grad()[0][0][2][2].item<double>(), 0.0);
  EXPECT_FALSE(teacher.grad().defined());
}

TEST(AttentionMSE, MappedHeadsNeedEqualCounts) {
  try {
    attentionMSE(studentMaps(), teacherMaps(3), kMask, AttentionHeads::kMapped);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("student has 2 heads and the teacher 3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("attention_heads: average"), std::string::npos) << e.what();
  }
}

TEST(AttentionMSE, HeadModeNames) {
  EXPECT_EQ(attentionHeadsFromName("average", "f"), AttentionHeads::kAverage);
  EXPECT_EQ(attentionHeadsFromName("mapped", "f"), AttentionHeads::kMapped);
  EXPECT_THROW(attentionHeadsFromName("first", "distill.terms[0].attention_heads"), Error);
}

}  // namespace
}  // namespace distill::kd
