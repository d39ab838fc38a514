// Child-Tuning gradient masks: the F draw (shared seed, 1/p scaling, same on
// every worker and step-indexed), the D mask (Fisher over the first N steps,
// global top-p, fixed afterwards), and what a gradient mask does to Adam's
// moments compared with a weight mask.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/optim/adamw.h"
#include "trainer/sparsity/child_tuning_d.h"
#include "trainer/sparsity/child_tuning_f.h"
#include "trainer/sparsity/gradient_mask.h"
#include "trainer/sparsity/mask_set.h"

namespace distill::sparsity {
namespace {

NamedTensor param(const std::string& name, torch::Tensor values) {
  values.requires_grad_(true);
  return {name, values};
}

TEST(ChildTuningF, KeepsAboutPAndScalesByOneOverP) {
  NamedTensor p = param("w", torch::zeros({100, 100}));
  ChildTuningF mask({p}, /*keep=*/0.3, /*seed=*/42);
  p.tensor.mutable_grad() = torch::ones({100, 100});
  mask.apply(/*step=*/7);
  const torch::Tensor g = p.tensor.grad();
  const double kept = (g != 0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(kept, 0.3, 0.02);
  EXPECT_TRUE(torch::allclose(g.masked_select(g != 0), torch::full({(g != 0).sum().item<int64_t>()}, 1.0f / 0.3f)));
}

TEST(ChildTuningF, SameDrawForTheSameSeedAndStepOnAnyWorker) {
  NamedTensor a = param("w", torch::zeros({8, 8}));
  NamedTensor b = param("w", torch::zeros({8, 8}));
  ChildTuningF on_worker0({a}, 0.5, 42);
  ChildTuningF on_worker1({b}, 0.5, 42);
  EXPECT_TRUE(torch::equal(on_worker0.draw(0, 3), on_worker1.draw(0, 3)));
  EXPECT_FALSE(torch::equal(on_worker0.draw(0, 3), on_worker0.draw(0, 4)));  // a fresh draw every step
  ChildTuningF other_seed({a}, 0.5, 43);
  EXPECT_FALSE(torch::equal(on_worker0.draw(0, 3), other_seed.draw(0, 3)));
}

TEST(ChildTuningD, FisherOverTheFirstStepsThenAFixedGlobalTopP) {
  NamedTensor a = param("a", torch::zeros({2, 2}));
  NamedTensor b = param("b", torch::zeros({2, 2}));
  ChildTuningD mask({a, b}, /*keep=*/0.25, /*fisher_batches=*/2);
  // Step 0 and 1: gradients pass unchanged while F = sum g^2 accumulates.
  a.tensor.mutable_grad() = torch::tensor({1.0f, 0.0f, 2.0f, 0.0f}).view({2, 2});
  b.tensor.mutable_grad() = torch::tensor({0.0f, 3.0f, 0.0f, 0.5f}).view({2, 2});
  mask.apply(0);
  EXPECT_FALSE(mask.fixed());
  EXPECT_TRUE(torch::equal(a.tensor.grad(), torch::tensor({1.0f, 0.0f, 2.0f, 0.0f}).view({2, 2})));
  a.tensor.mutable_grad() = torch::tensor({1.0f, 0.0f, 0.0f, 0.0f}).view({2, 2});
  b.tensor.mutable_grad() = torch::tensor({0.0f, 0.0f, 0.0f, 2.0f}).view({2, 2});
  mask.apply(1);
  ASSERT_TRUE(mask.fixed());
  // F: a = [2, 0, 4, 0], b = [0, 9, 0, 4.25]; top 25% of 8 entries = 2 -> b[1] (9) and b[3] (4.25).
  EXPECT_TRUE(torch::equal(mask.mask("a"), torch::zeros({2, 2})));
  EXPECT_TRUE(torch::equal(mask.mask("b"), torch::tensor({0.0f, 1.0f, 0.0f, 1.0f}).view({2, 2})));
  // From step 2 on the mask applies, unscaled.
  a.tensor.mutable_grad() = torch::ones({2, 2});
  b.tensor.mutable_grad() = torch::ones({2, 2});
  mask.apply(2);
  EXPECT_TRUE(torch::equal(a.tensor.grad(), torch::zeros({2, 2})));
  EXPECT_TRUE(torch::equal(b.tensor.grad(), torch::tensor({0.0f, 1.0f, 0.0f, 1.0f}).view({2, 2})));
}

// A gradient mask zeroes g only: Adam's moments of a masked entry decay and
// still move its weight. A weight mask zeroes the weight and both moments.
TEST(GradientMask, MasksTheGradientNotTheMomentsUnlikeAWeightMask) {
  NamedTensor p = param("w", torch::tensor({1.0f, 1.0f}).view({1, 2}));
  optim::AdamW adam({p}, optim::AdamWOptions{0.9, 0.999, 1e-8, 0.0});
  p.tensor.mutable_grad() = torch::tensor({1.0f, 1.0f}).view({1, 2});
  adam.step(0.1, nullptr);  // both entries: m = 0.1, v = 0.001, W = 0.9
  // Step 2: a gradient mask drops entry 1's gradient.
  p.tensor.mutable_grad() = torch::tensor({1.0f, 0.0f}).view({1, 2});
  adam.step(0.1, nullptr);
  const auto state = adam.stateTensors();
  const torch::Tensor m = state[0].tensor, v = state[1].tensor;
  EXPECT_NEAR(m[0][1].item<float>(), 0.09, 1e-7);          // m <- 0.9 m
  EXPECT_NEAR(v[0][1].item<float>(), 0.000999, 1e-9);      // v <- 0.999 v
  // W moved again: by 0.1 * (0.09/0.19) / (sqrt(0.000999/0.001999) + 1e-8)
  const double expected = 0.9 - 0.1 * (0.09 / 0.19) / (std::sqrt(0.000999 / 0.001999) + 1e-8);
  EXPECT_NEAR(p.tensor[0][1].item<float>(), expected, 1e-6);

  // The same step with a weight mask on entry 1: weight and moments become exactly 0.
  NamedTensor q = param("w", torch::tensor({1.0f, 1.0f}).view({1, 2}));
  optim::AdamW adam2({q}, optim::AdamWOptions{0.9, 0.999, 1e-8, 0.0});
  config::SparsitySpec spec;
  spec.set_enabled(true);
  spec.set_granularity("unstructured");
  MaskSet masks = MaskSet::select({q}, spec);
  q.tensor.mutable_grad() = torch::tensor({1.0f, 1.0f}).view({1, 2});
  adam2.step(0.1, &masks);
  masks.masks()[0].tensor.copy_(torch::tensor({1.0f, 0.0f}).view({1, 2}));
  q.tensor.mutable_grad() = torch::tensor({1.0f, 1.0f}).view({1, 2});
  adam2.step(0.1, &masks);
  const auto state2 = adam2.stateTensors();
  EXPECT_EQ(q.tensor[0][1].item<float>(), 0.0f);
  EXPECT_EQ(state2[0].tensor[0][1].item<float>(), 0.0f);
  EXPECT_EQ(state2[1].tensor[0][1].item<float>(), 0.0f);
}

TEST(GradientMask, RegistrySelectsParametersAndRejectsUnknownKinds) {
  std::vector<NamedTensor> params = {param("embed_tokens", torch::zeros({4, 4})), param("layer0.w", torch::zeros({4, 4})),
                                     param("layer0.b", torch::zeros({4}))};
  config::GradientMaskSpec spec;
  EXPECT_EQ(makeGradientMask(spec, params, 1), nullptr);
  spec.set_kind("child_tuning_f");
  spec.set_keep(0.5);
  auto mask = makeGradientMask(spec, params, 1);
  ASSERT_NE(mask, nullptr);
  // Default selection: only layer0.w (embeddings and vectors are left alone).
  for (auto& p : params) p.tensor.mutable_grad() = torch::ones_like(p.tensor);
  mask->apply(0);
  EXPECT_TRUE(torch::equal(params[0].tensor.grad(), torch::ones({4, 4})));
  EXPECT_TRUE(torch::equal(params[2].tensor.grad(), torch::ones({4})));
  EXPECT_FALSE(torch::equal(params[1].tensor.grad(), torch::ones({4, 4})));
  spec.set_kind("child_tuning_x");
  EXPECT_THROW(makeGradientMask(spec, params, 1), Error);
}

}  // namespace
}  // namespace distill::sparsity
