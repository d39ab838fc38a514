// The NaN guards (trainer/non_finite.h): a teacher output, a loss, a gradient
// or a checkpoint with NaN or infinity is stopped and named; -inf log-probs
// (a cached top-k without outside mass) pass; a checkpoint of a NaN state is
// never written.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "common/error.h"
#include "tests/unit/scratch_dir.h"
#include "trainer/checkpoint/checkpoint_io.h"
#include "trainer/non_finite.h"
#include "trainer/optim/adamw.h"

namespace distill::trainer {
namespace {

std::string messageOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(NonFinite, FindsTheFirstTensorWithNanOrInfinity) {
  std::vector<sparsity::NamedTensor> t = {{"a", torch::ones({3})}, {"b", torch::ones({2, 2})}, {"c", torch::ones({4})}};
  EXPECT_EQ(firstNonFinite(t), nullptr);
  t[2].tensor[1] = std::numeric_limits<float>::infinity();
  ASSERT_NE(firstNonFinite(t), nullptr);
  EXPECT_EQ(firstNonFinite(t)->name, "c");
  t[1].tensor[0][1] = NAN;
  EXPECT_EQ(firstNonFinite(t)->name, "b");
  const std::string m = messageOf([&] { checkFinite(t, "model.safetensors"); });
  EXPECT_NE(m.find("model.safetensors: tensor \"b\" holds 1 NaN and 0 infinite values of 4"), std::string::npos) << m;
  // Large finite values whose sum overflows float32 are still finite.
  std::vector<sparsity::NamedTensor> big = {{"big", torch::full({4}, 3e38f)}};
  EXPECT_EQ(firstNonFinite(big), nullptr);
}

TEST(NonFinite, TeacherOutputsNameTheTeacherAndAllowMinusInfinity) {
  kd::TeacherOutputs out;
  out.logits = {torch::randn({2, 5}), torch::randn({2, 5})};
  out.logits[1][0][3] = -std::numeric_limits<float>::infinity();  // log of a zero probability
  EXPECT_NO_THROW(checkTeacherOutputs(out, {"t0", "t1"}, 7));
  out.logits[1][1][2] = NAN;
  std::string m = messageOf([&] { checkTeacherOutputs(out, {"t0", "t1"}, 7); });
  EXPECT_NE(m.find("step 7: teacher 't1' returned logits with 1 NaN and 1 infinite values of 10"), std::string::npos)
      << m;
  out.logits[1][1][2] = 0;
  out.logits[0][0][0] = std::numeric_limits<float>::infinity();
  m = messageOf([&] { checkTeacherOutputs(out, {"t0", "t1"}, 7); });
  EXPECT_NE(m.find("teacher 't0'"), std::string::npos) << m;
}

TEST(NonFinite, TeachersGivenAsTheirTopKAreCheckedToo) {
  kd::TeacherOutputs out;  // a cache or a teacher rank with k = V = 3: the residual is -inf, no mass outside
  for (int k = 0; k < 2; ++k) {
    out.top_k.push_back({{torch::log_softmax(torch::randn({4, 3}), -1), torch::arange(3, torch::kInt).repeat({4, 1}),
                          torch::full({4}, -std::numeric_limits<float>::infinity())},
                         3});
  }
  EXPECT_NO_THROW(checkTeacherOutputs(out, {"t0", "t1"}, 2));
  out.top_k[1].rows.residual[2] = NAN;
  const std::string m = messageOf([&] { checkTeacherOutputs(out, {"t0", "t1"}, 2); });
  EXPECT_NE(m.find("step 2: teacher 't1' came as a top-k"), std::string::npos) << m;
  EXPECT_NE(m.find("1 NaN"), std::string::npos) << m;
}

TEST(NonFinite, LossAndGradientNormNameTheirParts) {
  kd::StepLoss loss;
  loss.total = torch::tensor(NAN);
  loss.logits.task = 1.5;
  loss.logits.kd = NAN;
  std::string m = messageOf([&] { checkStepLoss(loss, 3); });
  EXPECT_NE(m.find("step 3: the loss is nan (task 1.5"), std::string::npos) << m;
  loss.total = torch::tensor(2.0);
  EXPECT_NO_THROW(checkStepLoss(loss, 3));

  torch::Tensor w = torch::ones({3}, torch::requires_grad()), v = torch::ones({2}, torch::requires_grad());
  (w.sum() + v.sum()).backward();
  std::vector<sparsity::NamedTensor> params = {{"w", w}, {"v", v}};
  EXPECT_NO_THROW(checkGradientNorm(2.2, params, 4));
  v.mutable_grad()[1] = NAN;
  m = messageOf([&] { checkGradientNorm(NAN, params, 4); });
  EXPECT_NE(m.find("step 4: the gradient norm is nan: the gradient of \"v\" holds 1 NaN"), std::string::npos) << m;
  EXPECT_NE(m.find("The optimizer did not step"), std::string::npos) << m;
}

TEST(NonFinite, NoCheckpointOfANanState) {
  testing::ScratchDir dir;
  torch::Tensor w = torch::ones({4});
  std::vector<sparsity::NamedTensor> params = {{"w", w}};
  optim::AdamW adamw(params, {});
  checkpoint::TrainerCheckpoint ckpt{params, &adamw, nullptr, 5, "student.pt", 1};
  checkpoint::writeCheckpoint(dir.path("ok"), 0, ckpt);
  EXPECT_TRUE(std::filesystem::exists(dir.path("ok/model.safetensors")));
  w[2] = NAN;
  const std::string m = messageOf([&] { checkpoint::writeCheckpoint(dir.path("nan"), 0, ckpt); });
  EXPECT_NE(m.find("checkpoint of step 5 (not written): tensor \"w\" holds 1 NaN"), std::string::npos) << m;
  EXPECT_FALSE(std::filesystem::exists(dir.path("nan")));
  // Resume checks what it loaded too.
  w[2] = 1;
  checkpoint::writeCheckpoint(dir.path("ok"), 0, ckpt);
  EXPECT_NO_THROW(checkpoint::readCheckpoint(dir.path("ok"), 0, ckpt));
}

}  // namespace
}  // namespace distill::trainer
