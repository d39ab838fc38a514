// MC-dropout (MUKA) combiner: uncertainty is the entropy of the mean of the
// passes, "select" picks the least uncertain teacher, "softmax" weighs them.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/combiner.h"
#include "trainer/distill/mc_dropout_combiner.h"

namespace distill::kd {
namespace {

const double kL3 = std::log(3.0);
const double kH34 = 0.562335;  // H([3/4, 1/4])

// [M=2, B=2, C=2] from the two passes' logits, sample by sample.
torch::Tensor passes(std::vector<double> pass0, std::vector<double> pass1) {
  return torch::stack({torch::tensor(pass0, torch::kFloat).reshape({2, 2}),
                       torch::tensor(pass1, torch::kFloat).reshape({2, 2})});
}

// Teacher A: sample 0 both passes [ln3,0] -> mean [3/4,1/4], H = 0.562;
//            sample 1 passes [ln3,0] and [0,ln3]: each sure, they disagree -> mean [1/2,1/2], H = ln 2.
// Teacher B: sample 0 both [0,0] -> H = ln 2; sample 1 both [0,ln3] -> H = 0.562.
CombinerExtras twoTeachers() {
  CombinerExtras extras;
  extras.teacher_passes = {passes({kL3, 0, kL3, 0}, {kL3, 0, 0, kL3}), passes({0, 0, 0, kL3}, {0, 0, 0, kL3})};
  return extras;
}

config::DistillSpec spec(const std::string& mode, double tau) {
  config::DistillSpec s;
  s.set_combiner("mc_dropout");
  s.set_temperature(1.0);
  s.mutable_mc_dropout()->set_passes(2);
  s.mutable_mc_dropout()->set_mode(mode);
  s.mutable_mc_dropout()->set_temperature(tau);
  return s;
}

const std::vector<torch::Tensor> kLogits = {torch::zeros({2, 2}), torch::zeros({2, 2})};

TEST(McDropoutCombiner, UncertaintyIsTheEntropyOfTheMeanPass) {
  const McDropoutCombiner combiner(1.0, spec("select", 1.0).mc_dropout());
  const torch::Tensor u = combiner.uncertainty(twoTeachers().teacher_passes);
  const torch::Tensor expected = torch::tensor({kH34, std::log(2.0), std::log(2.0), kH34}, torch::kFloat).reshape({2, 2});
  EXPECT_TRUE(torch::allclose(u, expected, 1e-5, 1e-5)) << u;
}

TEST(McDropoutCombiner, SelectPicksTheLowerEntropyTeacher) {
  const auto combiner = makeCombiner(spec("select", 1.0));
  EXPECT_EQ(combiner->name(), "mc_dropout");
  EXPECT_EQ(combiner->stochasticPasses(), 2);
  const torch::Tensor w = combiner->weightsWith(kLogits, torch::zeros({2, 2}), twoTeachers());
  // sample 0: A (0.562 < ln 2); sample 1: B
  EXPECT_TRUE(torch::equal(w, torch::tensor({1.0, 0.0, 0.0, 1.0}, torch::kFloat).reshape({2, 2}))) << w;
  EXPECT_FALSE(w.requires_grad());
}

TEST(McDropoutCombiner, TiesGoToTheLowestIndex) {
  CombinerExtras same;
  const torch::Tensor p = passes({kL3, 0, 0, 0}, {kL3, 0, 0, 0});
  same.teacher_passes = {p, p.clone(), p.clone()};
  const std::vector<torch::Tensor> logits = {torch::zeros({2, 2}), torch::zeros({2, 2}), torch::zeros({2, 2})};
  const torch::Tensor w = makeCombiner(spec("select", 1.0))->weightsWith(logits, torch::zeros({2, 2}), same);
  EXPECT_TRUE(torch::equal(w, torch::tensor({1.0, 1.0, 0.0, 0.0, 0.0, 0.0}, torch::kFloat).reshape({3, 2}))) << w;
}

TEST(McDropoutCombiner, SoftmaxWeighsByUncertainty) {
  // softmax(-u / tau), tau = 1: exp(-0.562) = q = 0.569877 vs exp(-ln 2) = 1/2 -> q / (q + 1/2) = 0.532656
  const double q = std::pow(0.75, 0.75) * std::pow(0.25, 0.25);
  const double sure = q / (q + 0.5);
  EXPECT_NEAR(sure, 0.532656, 1e-6);
  const torch::Tensor w = makeCombiner(spec("softmax", 1.0))->weightsWith(kLogits, torch::zeros({2, 2}), twoTeachers());
  EXPECT_TRUE(torch::allclose(w, torch::tensor({sure, 1 - sure, 1 - sure, sure}, torch::kFloat).reshape({2, 2}), 1e-5,
                              1e-5))
      << w;
}

TEST(McDropoutCombiner, NeedsItsPasses) {
  const auto combiner = makeCombiner(spec("select", 1.0));
  EXPECT_THROW(combiner->weights(kLogits, torch::zeros({2, 2})), Error);
  EXPECT_THROW(combiner->weightsWith(kLogits, torch::zeros({2, 2}), CombinerExtras{}), Error);
  CombinerExtras three_passes;
  const torch::Tensor p = torch::zeros({3, 2, 2});
  three_passes.teacher_passes = {p, p};
  EXPECT_THROW(combiner->weightsWith(kLogits, torch::zeros({2, 2}), three_passes), Error);
  EXPECT_THROW(makeCombiner(spec("vote", 1.0)), Error);
  config::DistillSpec none = spec("select", 1.0);
  none.mutable_mc_dropout()->set_passes(0);
  EXPECT_THROW(makeCombiner(none), Error);
}

}  // namespace
}  // namespace distill::kd
