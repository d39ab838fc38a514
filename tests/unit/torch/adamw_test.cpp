// AdamW: equal to LibTorch's torch::optim::AdamW on dense params, and the
// DESIGN.md section 4 semantics on masked ones.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/optim/adamw.h"
#include "trainer/sparsity/magnitude_criterion.h"
#include "trainer/sparsity/mask_set.h"

namespace distill::optim {
namespace {

std::vector<NamedTensor> randomParams(std::vector<std::vector<int64_t>> shapes) {
  std::vector<NamedTensor> params;
  for (size_t i = 0; i < shapes.size(); ++i) {
    params.push_back({"p" + std::to_string(i), torch::randn(shapes[i]).requires_grad_()});
  }
  return params;
}

std::vector<NamedTensor> cloneParams(const std::vector<NamedTensor>& params) {
  std::vector<NamedTensor> out;
  for (const NamedTensor& p : params) out.push_back({p.name, p.tensor.detach().clone().requires_grad_()});
  return out;
}

TEST(AdamW, MatchesLibTorchAdamWOverTenSteps) {
  torch::manual_seed(7);
  const std::vector<NamedTensor> ours = randomParams({{4, 3}, {5}, {2, 2, 2}});
  const std::vector<NamedTensor> reference = cloneParams(ours);
  AdamWOptions options;
  options.beta1 = 0.8;
  options.beta2 = 0.95;
  options.eps = 1e-6;
  options.weight_decay = 0.1;
  options.decay_norms_and_biases = true;  // LibTorch decays every parameter
  AdamW optimizer(ours, options);

  std::vector<torch::Tensor> reference_tensors;
  for (const NamedTensor& p : reference) reference_tensors.push_back(p.tensor);
  torch::optim::AdamW libtorch(reference_tensors,
                               torch::optim::AdamWOptions(1e-2).betas({0.8, 0.95}).eps(1e-6).weight_decay(0.1));

  for (int step = 0; step < 10; ++step) {
    const double lr = 1e-2 * (step + 1);  // a changing lr, as under a schedule
    for (size_t i = 0; i < ours.size(); ++i) {
      const torch::Tensor grad = torch::randn(ours[i].tensor.sizes());
      ours[i].tensor.mutable_grad() = grad.clone();
      reference[i].tensor.mutable_grad() = grad.clone();
    }
    static_cast<torch::optim::AdamWOptions&>(libtorch.param_groups()[0].options()).lr(lr);
    optimizer.step(lr, nullptr);
    libtorch.step();
  }
  EXPECT_EQ(optimizer.stepCount(), 10);
  for (size_t i = 0; i < ours.size(); ++i) {
    const double diff = (ours[i].tensor - reference[i].tensor).abs().max().item<double>();
    EXPECT_LT(diff, 1e-6) << ours[i].name;
  }
}

// By default biases and norm weights (one dimension) are not decayed: with a
// zero gradient a matrix shrinks by lr x weight_decay, a vector stays.
TEST(AdamW, NormsAndBiasesAreNotDecayedByDefault) {
  std::vector<NamedTensor> params = {{"w", torch::ones({2, 2})}, {"ln_weight", torch::ones({3})}};
  AdamWOptions options;
  options.weight_decay = 0.1;
  AdamW optimizer(params, options);
  for (auto& p : params) p.tensor.mutable_grad() = torch::zeros_like(p.tensor);
  optimizer.step(0.5, nullptr);
  EXPECT_TRUE(torch::allclose(params[0].tensor, torch::full({2, 2}, 0.95)));
  EXPECT_TRUE(torch::equal(params[1].tensor, torch::ones({3})));
  config::OptimizerSpec spec;
  spec.set_name("adamw");
  spec.set_decay_norms_and_biases(true);
  EXPECT_TRUE(adamwOptions(spec).decay_norms_and_biases);
}

TEST(AdamW, MaskedWeightsAndMomentsStayExactlyZero) {
  // DESIGN.md section 4: 50% mask, weight decay 0.1, 100 steps of random
  // gradients (dense: the optimizer must zero the masked entries itself).
  // 20 dense steps come first so the moments are non-zero when the mask
  // arrives, as when a schedule prunes mid-training: stale moments would
  // otherwise keep moving pruned weights.
  torch::manual_seed(11);
  std::vector<NamedTensor> params = randomParams({{20, 25}, {10, 10}});
  const std::vector<NamedTensor> control = cloneParams(params);  // same run without masks
  AdamWOptions options;
  options.weight_decay = 0.1;
  AdamW optimizer(params, options);
  AdamW control_optimizer(control, options);
  auto randomStep = [&](const sparsity::MaskSet* masks) {
    for (size_t i = 0; i < params.size(); ++i) {
      const torch::Tensor grad = torch::randn(params[i].tensor.sizes());
      params[i].tensor.mutable_grad() = grad.clone();
      control[i].tensor.mutable_grad() = grad.clone();
    }
    optimizer.step(1e-2, masks);
    control_optimizer.step(1e-2, nullptr);
  };
  for (int step = 0; step < 20; ++step) randomStep(nullptr);

  config::SparsitySpec spec;
  spec.set_enabled(true);
  spec.set_granularity("unstructured");
  sparsity::MaskSet masks = sparsity::MaskSet::select(params, spec);
  masks.update(0.5, sparsity::MagnitudeCriterion(), "global");
  masks.applyToWeights();
  sparsity::MaskSet control_masks = sparsity::MaskSet::select(control, spec);
  control_masks.update(0.5, sparsity::MagnitudeCriterion(), "global");
  control_masks.applyToWeights();
  const std::vector<torch::Tensor> at_pruning = {params[0].tensor.detach().clone(), params[1].tensor.detach().clone()};

  for (int step = 0; step < 100; ++step) randomStep(&masks);

  std::map<std::string, torch::Tensor> state;
  for (const NamedTensor& s : optimizer.stateTensors()) state[s.name] = s.tensor;
  int64_t pruned_total = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor pruned = *masks.find(params[i].name) == 0;
    const torch::Tensor kept = pruned.logical_not();
    pruned_total += pruned.sum().item<int64_t>();
    const torch::Tensor w = params[i].tensor.detach();
    EXPECT_EQ(w.masked_select(pruned).abs().max().item<float>(), 0.0f) << params[i].name;
    EXPECT_FALSE(w.masked_select(pruned).signbit().any().item<bool>()) << "pruned weights must be +0.0";
    EXPECT_EQ(state.at("exp_avg/" + params[i].name).masked_select(pruned).abs().max().item<float>(), 0.0f);
    EXPECT_EQ(state.at("exp_avg_sq/" + params[i].name).masked_select(pruned).abs().max().item<float>(), 0.0f);
    // the kept weights did train
    EXPECT_TRUE((w.masked_select(kept) != at_pruning[i].masked_select(kept)).all().item<bool>()) << params[i].name;
    EXPECT_GT(state.at("exp_avg_sq/" + params[i].name).masked_select(kept).min().item<float>(), 0.0f);
    // and the unmasked optimizer revives the pruned weights: the test can fail
    EXPECT_GT(control[i].tensor.detach().masked_select(pruned).abs().min().item<float>(), 0.0f);
  }
  EXPECT_EQ(pruned_total, 300);  // round(0.5 * (500 + 100))
}

TEST(AdamW, SkipsParamsWithoutGradient) {
  std::vector<NamedTensor> params = randomParams({{3}, {3}});
  const torch::Tensor before0 = params[0].tensor.detach().clone();
  const torch::Tensor before1 = params[1].tensor.detach().clone();
  AdamW optimizer(params, AdamWOptions{});
  params[0].tensor.mutable_grad() = torch::ones({3});
  optimizer.step(0.1, nullptr);
  EXPECT_TRUE(torch::equal(params[1].tensor.detach(), before1));
  EXPECT_FALSE(torch::equal(params[0].tensor.detach(), before0));
}

TEST(AdamW, FirstStepMovesEachWeightByLearningRate) {
  // t = 1: m = (1-b1) g, v = (1-b2) g^2 -> m^ = g, v^ = g^2 -> step = lr * g / (|g| + eps) = lr * sign(g)
  std::vector<NamedTensor> params = {{"w", torch::tensor({1.0f, 1.0f, 1.0f}).requires_grad_()}};
  AdamW optimizer(params, AdamWOptions{});
  params[0].tensor.mutable_grad() = torch::tensor({0.5f, -2.0f, 1e-3f});
  optimizer.step(0.1, nullptr);
  EXPECT_TRUE(torch::allclose(params[0].tensor.detach(), torch::tensor({0.9f, 1.1f, 0.9f}), 0, 1e-5))
      << params[0].tensor;
}

TEST(AdamW, StateRoundTripsAndNamesMissingTensors) {
  torch::manual_seed(3);
  std::vector<NamedTensor> params = randomParams({{2, 3}});
  std::vector<NamedTensor> copy = cloneParams(params);
  AdamW first(params, AdamWOptions{});
  for (int step = 0; step < 3; ++step) {
    params[0].tensor.mutable_grad() = torch::randn({2, 3});
    first.step(1e-2, nullptr);
  }
  std::map<std::string, torch::Tensor> saved;
  for (const NamedTensor& s : first.stateTensors()) saved[s.name] = s.tensor.clone();
  EXPECT_EQ(saved.count("exp_avg/p0"), 1u);
  EXPECT_EQ(saved.count("exp_avg_sq/p0"), 1u);

  // a second optimizer resumed from the state takes the same next step
  {
    torch::NoGradGuard no_grad;
    copy[0].tensor.copy_(params[0].tensor);
  }
  AdamW resumed(copy, AdamWOptions{});
  resumed.loadState(saved, first.stepCount());
  EXPECT_EQ(resumed.stepCount(), 3);
  const torch::Tensor grad = torch::randn({2, 3});
  params[0].tensor.mutable_grad() = grad.clone();
  copy[0].tensor.mutable_grad() = grad.clone();
  first.step(1e-2, nullptr);
  resumed.step(1e-2, nullptr);
  EXPECT_TRUE(torch::equal(params[0].tensor, copy[0].tensor));

  std::map<std::string, torch::Tensor> missing = saved;
  missing.erase("exp_avg_sq/p0");
  try {
    resumed.loadState(missing, 3);
    FAIL() << "missing tensor accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exp_avg_sq/p0"), std::string::npos) << e.what();
  }
  std::map<std::string, torch::Tensor> misshaped = saved;
  misshaped["exp_avg/p0"] = torch::zeros({3, 2});
  EXPECT_THROW(resumed.loadState(misshaped, 3), Error);
}

TEST(AdamW, OptionsFromConfig) {
  config::OptimizerSpec spec;
  spec.set_name("adamw");
  spec.set_beta1(0.85);
  spec.set_beta2(0.98);
  spec.set_eps(1e-7);
  spec.set_weight_decay(0.01);
  const AdamWOptions o = adamwOptions(spec);
  EXPECT_EQ(o.beta1, 0.85);
  EXPECT_EQ(o.beta2, 0.98);
  EXPECT_EQ(o.eps, 1e-7);
  EXPECT_EQ(o.weight_decay, 0.01);
  spec.set_name("sgd");
  EXPECT_THROW(adamwOptions(spec), Error);
  AdamWOptions bad;
  bad.beta2 = 1.0;
  EXPECT_THROW(AdamW({}, bad), Error);
}

}  // namespace
}  // namespace distill::optim

namespace distill::optim {
namespace {

// A caller that masked the gradients itself (the gradient sync) gets the same
// step without AdamW masking them again; zeroWhereMasked turns NaN into 0 too.
TEST(AdamW, GradientsMaskedByTheCallerGiveTheSameStep) {
  torch::manual_seed(12);
  std::vector<NamedTensor> a = randomParams({{8, 6}});
  std::vector<NamedTensor> b = cloneParams(a);
  config::SparsitySpec spec;
  spec.set_enabled(true);
  spec.set_granularity("unstructured");
  sparsity::MaskSet masks_a = sparsity::MaskSet::select(a, spec);
  sparsity::MaskSet masks_b = sparsity::MaskSet::select(b, spec);
  masks_a.update(0.5, sparsity::MagnitudeCriterion(), "global");
  masks_b.update(0.5, sparsity::MagnitudeCriterion(), "global");
  AdamW opt_a(a, AdamWOptions{});
  AdamW opt_b(b, AdamWOptions{});
  for (int step = 0; step < 5; ++step) {
    torch::Tensor grad = torch::randn({8, 6});
    grad.masked_fill_(masks_a.masks()[0].tensor.logical_not().logical_and(torch::rand({8, 6}) < 0.5), NAN);
    a[0].tensor.mutable_grad() = grad.clone();
    b[0].tensor.mutable_grad() = grad.clone();
    opt_a.step(1e-2, &masks_a);
    masks_b.maskGradients();  // what the sync does
    EXPECT_TRUE(torch::isfinite(b[0].tensor.grad()).all().item<bool>());
    opt_b.step(1e-2, &masks_b, /*gradients_masked=*/true);
  }
  EXPECT_TRUE(torch::equal(a[0].tensor, b[0].tensor));
}

}  // namespace
}  // namespace distill::optim
