// Teacher combiners on a 2-teacher, 2-sample example with hand-computed weights.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/combiner.h"

namespace distill::kd {
namespace {

// Teacher A is unsure on sample 0 ([0,0] -> p = [1/2,1/2], entropy ln 2 = 0.693147) and
// confident on sample 1 ([ln 3,0] -> p = [3/4,1/4], entropy 0.562335); teacher B the reverse.
std::vector<torch::Tensor> twoTeachers() {
  const double l3 = std::log(3.0);
  return {torch::tensor({0.0, 0.0, l3, 0.0}, torch::kFloat).reshape({2, 2}),
          torch::tensor({l3, 0.0, 0.0, 0.0}, torch::kFloat).reshape({2, 2})};
}

config::DistillSpec spec(const std::string& combiner) {
  config::DistillSpec s;
  s.set_combiner(combiner);
  s.set_temperature(1.0);
  s.set_confidence_temperature(1.0);
  s.add_teachers()->set_weight(3.0);
  s.add_teachers()->set_weight(1.0);
  return s;
}

void expectWeights(const torch::Tensor& w, std::vector<double> expected) {
  ASSERT_EQ(w.sizes(), torch::IntArrayRef({2, 2}));
  EXPECT_FALSE(w.requires_grad());
  EXPECT_TRUE(torch::allclose(w, torch::tensor(expected, torch::kFloat).reshape({2, 2}), 1e-6, 1e-6)) << w;
  EXPECT_TRUE(torch::allclose(w.sum(0), torch::ones({2}), 1e-6, 1e-6));
}

TEST(TeacherCombiner, MeanIsUniform) {
  const auto combiner = makeCombiner(spec("mean"));
  EXPECT_EQ(combiner->name(), "mean");
  expectWeights(combiner->weights(twoTeachers(), torch::zeros({2, 2})), {0.5, 0.5, 0.5, 0.5});
}

TEST(TeacherCombiner, FixedWeightsAreNormalised) {
  // weights 3 and 1 -> 3/4 and 1/4 for every sample
  const auto combiner = makeCombiner(spec("weights"));
  EXPECT_EQ(combiner->name(), "weights");
  expectWeights(combiner->weights(twoTeachers(), torch::zeros({2, 2})), {0.75, 0.75, 0.25, 0.25});
}

TEST(TeacherCombiner, ConfidenceFavoursTheLowerEntropyTeacher) {
  // w = softmax_k(-H_k / tau). exp(-ln 2) = 1/2; exp(-H(3/4,1/4)) = 0.75^0.75 * 0.25^0.25 = q = 0.569877
  // tau = 1: confident teacher q / (q + 1/2) = 0.532656, unsure teacher 1/2 / (q + 1/2) = 0.467344
  const double q = std::pow(0.75, 0.75) * std::pow(0.25, 0.25);
  EXPECT_NEAR(q, 0.569877, 1e-6);
  const double sure = q / (q + 0.5), unsure = 0.5 / (q + 0.5);
  EXPECT_NEAR(sure, 0.532656, 1e-6);
  const auto combiner = makeCombiner(spec("confidence"));
  EXPECT_EQ(combiner->name(), "confidence");
  // rows are teachers, columns samples: A is unsure on sample 0 and sure on sample 1.
  expectWeights(combiner->weights(twoTeachers(), torch::zeros({2, 2})), {unsure, sure, sure, unsure});

  // tau = 1/2 sharpens: exp(-2H): 1/4 vs q^2 -> q^2 / (q^2 + 1/4) = 0.565035
  config::DistillSpec sharp = spec("confidence");
  sharp.set_confidence_temperature(0.5);
  const double sure2 = q * q / (q * q + 0.25);
  EXPECT_NEAR(sure2, 0.565035, 1e-6);
  expectWeights(makeCombiner(sharp)->weights(twoTeachers(), torch::zeros({2, 2})),
                {1 - sure2, sure2, sure2, 1 - sure2});
}

TEST(TeacherCombiner, RegistryListsAndRejectsNames) {
  EXPECT_EQ(combinerNames(), (std::vector<std::string>{"mean", "weights", "confidence", "mc_dropout", "competency",
                                                       "amalgamation"}));
  try {
    makeCombiner(spec("muka"));
    FAIL() << "unknown combiner accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("distill.combiner"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("confidence"), std::string::npos) << e.what();
  }
}

TEST(TeacherCombiner, RejectsBadConfiguration) {
  config::DistillSpec zero = spec("weights");
  zero.mutable_teachers(0)->set_weight(0);
  zero.mutable_teachers(1)->set_weight(0);
  EXPECT_THROW(makeCombiner(zero), Error);
  config::DistillSpec negative = spec("weights");
  negative.mutable_teachers(1)->set_weight(-1);
  EXPECT_THROW(makeCombiner(negative), Error);
  config::DistillSpec tau = spec("confidence");
  tau.set_confidence_temperature(0);
  EXPECT_THROW(makeCombiner(tau), Error);
  // three teacher outputs for a config that lists two
  auto three = twoTeachers();
  three.push_back(three[0]);
  EXPECT_THROW(makeCombiner(spec("weights"))->weights(three, torch::zeros({2, 2})), Error);
}

}  // namespace
}  // namespace distill::kd
