// A teacher's top-k as a control message (trainer/teachers/top_k_message.h),
// placement pool's wire format: float32 log-probabilities come back bit for
// bit, language-model and classification shapes, and a message whose byte
// fields do not match its shape is refused naming the sender and the field.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/teachers/top_k.h"
#include "trainer/teachers/top_k_message.h"

namespace distill::teachers {
namespace {

TEST(TopKMessage, RoundTripsExactly) {
  torch::manual_seed(3);
  for (const auto& shape : {std::vector<int64_t>{3, 5, 40}, std::vector<int64_t>{4, 40}}) {
    const TopK top = topK(torch::randn(shape) * 4, 8);
    const control::TeacherOutput m = encodeTopK(top, 40);
    EXPECT_EQ(m.vocab(), 40u);
    EXPECT_EQ(m.k(), 8u);
    const TopK back = decodeTopK(m, "teacher rank 3");
    EXPECT_TRUE(torch::equal(back.log_probs, top.log_probs));
    EXPECT_TRUE(torch::equal(back.indices, top.indices));
    EXPECT_TRUE(torch::equal(back.residual, top.residual));
    EXPECT_EQ(back.log_probs.sizes(), top.log_probs.sizes());
  }
}

TEST(TopKMessage, EveryTokenKeptExpandsToTheTeachersDistribution) {
  torch::manual_seed(4);
  const torch::Tensor logits = torch::randn({2, 3, 16}) * 3;
  const TopK back = decodeTopK(encodeTopK(topK(logits, 16), 16), "teacher rank 3");
  const torch::Tensor dense = denseLogits(back, 16);
  EXPECT_TRUE(torch::allclose(torch::log_softmax(dense, -1), torch::log_softmax(logits, -1), 1e-6, 1e-6));
}

TEST(TopKMessage, AMessageThatDoesNotMatchItsShapeIsRefused) {
  const TopK top = topK(torch::randn({2, 3, 16}), 4);
  control::TeacherOutput m = encodeTopK(top, 16);
  m.set_step(6);
  control::TeacherOutput short_ids = m;
  short_ids.mutable_indices()->resize(m.indices().size() - 4);
  try {
    decodeTopK(short_ids, "teacher rank 4");
    FAIL() << "a short indices field was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("teacher rank 4: teacher output field indices holds"), std::string::npos)
        << e.what();
  }
  control::TeacherOutput no_k = m;
  no_k.set_k(0);
  EXPECT_THROW(decodeTopK(no_k, "teacher rank 4"), Error);
  control::TeacherOutput more_positions = m;
  more_positions.set_positions(1, 4);
  EXPECT_THROW(decodeTopK(more_positions, "teacher rank 4"), Error);
}

}  // namespace
}  // namespace distill::teachers
