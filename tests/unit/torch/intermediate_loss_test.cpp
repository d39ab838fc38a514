// The intermediate terms of a step: layer pairs, per-sample teacher weights,
// padding, projections and what reaches the reported numbers.
#include <functional>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/intermediate_loss.h"

namespace distill::kd {
namespace {

// hidden_states [L+1, B, T, D] with entry l filled with the value l.
torch::Tensor layered(int64_t layers, int64_t batch, int64_t tokens, int64_t width) {
  return torch::arange(layers + 1, torch::kFloat).reshape({-1, 1, 1, 1}).expand({layers + 1, batch, tokens, width}).contiguous();
}

config::DistillSpec spec(const std::string& kind) {
  config::DistillSpec s;
  s.add_teachers()->set_name("deep");
  s.add_teachers()->set_name("shallow");
  auto* t = s.add_terms();
  t->set_kind(kind);
  t->set_name(kind);
  t->set_weight(2.0);
  t->set_layers("uniform");
  return s;
}

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(IntermediateLoss, HiddenMSEOverUniformPairsCombinedPerSample) {
  // Student: 2 layers, all zeros. Teacher "deep": 4 layers, "shallow": 2, hidden entry l = l.
  // uniform(2,4) = [1,3] -> hidden entries 2 and 4 -> squared errors 4 and 16 -> mean over pairs 10
  // uniform(2,2) = [0,1] -> hidden entries 1 and 2 -> 1 and 4 -> 2.5
  // weights: sample 0 [1/4, 3/4] -> 2.5 + 1.875 = 4.375; sample 1 [1, 0] -> 10;
  // sample 2 has no real token: left out. mean (4.375 + 10) / 2 = 7.1875, total = 2 * 7.1875
  torch::Tensor student = torch::zeros({3, 3, 2, 2}).requires_grad_();
  const std::vector<LayerOutputs> teachers = {{layered(4, 3, 2, 2), {}}, {layered(2, 3, 2, 2), {}}};
  const torch::Tensor mask = torch::tensor({1, 1, 1, 0, 0, 0}, torch::kLong).reshape({3, 2});
  const torch::Tensor weights = torch::tensor({0.25, 1.0, 0.5, 0.75, 0.0, 0.5}, torch::kFloat).reshape({2, 3});
  const IntermediateBreakdown out = intermediateLoss(spec("hidden_mse"), {student, {}}, teachers, mask, weights, {});

  EXPECT_NEAR(out.total.item<double>(), 2 * 7.1875, 1e-5);
  ASSERT_EQ(out.terms.size(), 1u);
  EXPECT_EQ(out.terms[0].name, "hidden_mse");
  EXPECT_NEAR(out.terms[0].value, 7.1875, 1e-5);
  ASSERT_EQ(out.terms[0].per_teacher.size(), 2u);
  EXPECT_NEAR(out.terms[0].per_teacher[0], 10.0, 1e-5);
  EXPECT_NEAR(out.terms[0].per_teacher[1], 2.5, 1e-5);

  out.total.backward();
  // The embeddings (entry 0) are in no pair; the padded sample gets nothing.
  EXPECT_TRUE(torch::equal(student.grad()[0], torch::zeros({3, 2, 2})));
  EXPECT_TRUE(torch::equal(student.grad().select(1, 2), torch::zeros({3, 2, 2})));
  EXPECT_GT(student.grad()[2].abs().sum().item<double>(), 0.0);
}

TEST(IntermediateLoss, ProjectionsAreCreatedPerPairAndTrained) {
  // Student width 2, teachers width 3: one projection per (teacher, student layer).
  config::DistillSpec s = spec("hidden_mse");
  const ModelShape student_shape{2, 2, 0};
  const Projections p = createProjections(s, student_shape, {{4, 3, 0}, {2, 3, 0}}, 11);
  std::vector<std::string> names;
  for (const auto& [name, w] : p) {
    names.push_back(name);
    EXPECT_EQ(w.sizes(), torch::IntArrayRef({3, 2}));
    EXPECT_TRUE(w.requires_grad() && w.is_leaf());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"projections/hidden_mse/deep/0", "projections/hidden_mse/deep/1",
                                             "projections/hidden_mse/shallow/0", "projections/hidden_mse/shallow/1"}));
  EXPECT_TRUE(torch::equal(p.at("projections/hidden_mse/deep/0"),
                           createProjections(s, student_shape, {{4, 3, 0}, {2, 3, 0}}, 11).at("projections/hidden_mse/deep/0")));
  // Equal widths and terms that do not project need none.
  EXPECT_TRUE(createProjections(s, {2, 3, 0}, {{4, 3, 0}, {2, 3, 0}}, 11).empty());
  EXPECT_TRUE(createProjections(spec("cka"), student_shape, {{4, 3, 0}, {2, 3, 0}}, 11).empty());

  torch::Tensor student = torch::ones({3, 1, 2, 2}).requires_grad_();
  const std::vector<LayerOutputs> teachers = {{layered(4, 1, 2, 3), {}}, {layered(2, 1, 2, 3), {}}};
  const torch::Tensor mask = torch::ones({1, 2}, torch::kLong);
  const torch::Tensor weights = torch::full({2, 1}, 0.5);
  const IntermediateBreakdown out = intermediateLoss(s, {student, {}}, teachers, mask, weights, p);
  out.total.backward();
  for (const auto& [name, w] : p) EXPECT_GT(w.grad().abs().sum().item<double>(), 0.0) << name;
  EXPECT_GT(student.grad().abs().sum().item<double>(), 0.0);

  // Without its projections the term cannot compare widths 2 and 3.
  EXPECT_NE(errorOf([&] { intermediateLoss(s, {student, {}}, teachers, mask, weights, {}); })
                .find("a projection is needed"),
            std::string::npos);
}

TEST(IntermediateLoss, AttentionAndRepresentationTermsAndMissingOutputs) {
  // attention_mse, average heads: student maps all 1/2 over 2 tokens, teacher identity -> 0.25 (attention_mse_test)
  config::DistillSpec s = spec("attention_mse");
  s.mutable_terms(0)->set_attention_heads("average");
  s.mutable_teachers()->RemoveLast();
  const torch::Tensor student_attn = torch::full({1, 1, 2, 2, 2}, 0.5);  // [L=1, B=1, H=2, T=2, T=2]
  const torch::Tensor teacher_attn = torch::eye(2).reshape({1, 1, 1, 2, 2}).expand({3, 1, 4, 2, 2}).contiguous();
  const torch::Tensor mask = torch::ones({1, 2}, torch::kLong);
  const torch::Tensor weights = torch::ones({1, 1});
  const IntermediateBreakdown out =
      intermediateLoss(s, {{}, student_attn}, {{{}, teacher_attn}}, mask, weights, {});
  EXPECT_NEAR(out.terms[0].value, 0.25, 1e-6);

  EXPECT_EQ(errorOf([&] { intermediateLoss(s, {{}, student_attn}, {{layered(3, 1, 2, 2), {}}}, mask, weights, {}); }),
            "distill.terms[0] (attention_mse) needs attentions, but teacher 'deep' returned none; see docs/models.md");

  // cka on the last layer of identical students and teachers: 1 - CKA = 0
  config::DistillSpec c = spec("cka");
  c.mutable_terms(0)->set_layers("last");
  c.mutable_teachers()->RemoveLast();
  const torch::Tensor hidden = torch::randn({3, 4, 2, 5});
  const IntermediateBreakdown same =
      intermediateLoss(c, {hidden, {}}, {{hidden, {}}}, torch::ones({4, 2}, torch::kLong), torch::ones({1, 4}), {});
  EXPECT_NEAR(same.terms[0].value, 0.0, 1e-5);
}

TEST(IntermediateLoss, NoTermsIsAZeroWithoutGrad) {
  config::DistillSpec s;
  const IntermediateBreakdown out = intermediateLoss(s, {}, {}, torch::ones({2, 3}, torch::kLong), {}, {});
  EXPECT_EQ(out.total.item<double>(), 0.0);
  EXPECT_FALSE(out.total.requires_grad());
  EXPECT_TRUE(out.terms.empty());
}

TEST(IntermediateLoss, WeightsPerSampleFromTokenRows) {
  // B = 2, T = 2: rows 0,1 are sample 0, rows 2,3 sample 1; row 1 not counted
  const torch::Tensor rows = torch::tensor({1.0, 0.0, 0.5, 0.25, 0.0, 1.0, 0.5, 0.75}, torch::kFloat).reshape({2, 4});
  const torch::Tensor w = weightsPerSample(rows, torch::tensor({1, 0, 1, 1}, torch::kLong), 2);
  EXPECT_TRUE(torch::allclose(w, torch::tensor({1.0, 0.375, 0.0, 0.625}, torch::kFloat).reshape({2, 2}))) << w;
  // A sample without counted rows gets 0.
  EXPECT_TRUE(torch::equal(weightsPerSample(rows, torch::tensor({0, 0, 1, 1}, torch::kLong), 2)[0][0], torch::tensor(0.0f)));
  EXPECT_THROW(weightsPerSample(rows, torch::ones({4}), 3), Error);
}

TEST(IntermediateLoss, ShapesFromOutputs) {
  const ModelShape shape = shapeOf({torch::zeros({5, 2, 3, 8}), torch::zeros({4, 2, 2, 3, 3})}, "student");
  EXPECT_EQ(shape.layers, 4);
  EXPECT_EQ(shape.width, 8);
  EXPECT_EQ(shape.heads, 2);
  EXPECT_THROW(shapeOf({torch::zeros({5, 2, 3, 8}), torch::zeros({3, 2, 2, 3, 3})}, "student"), Error);
}

}  // namespace
}  // namespace distill::kd
