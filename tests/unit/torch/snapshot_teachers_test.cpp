// CAP's snapshot teachers: the pre-trained student and the newest snapshots
// are frozen copies (later training does not move them), the term is the
// weighted InfoNCE against each, mean over snapshots, and a checkpoint's
// state rebuilds the same teachers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/distill/infonce.h"
#include "trainer/distill/sentence_representation.h"
#include "trainer/distill/snapshot_teachers.h"
#include "trainer/model/builtin.h"
#include "trainer/precision/precision_policy.h"

namespace distill::kd {
namespace {

torch::jit::Module student() {
  model::TransformerSize size;
  size.dropout = 0;
  auto m = model::buildEncoderClassifier(size, 4, 3);
  model::setLayerOutputs(m, true, false);
  return m;
}

data::Batch batch() {
  torch::Tensor mask = torch::ones({4, 10}, torch::kLong);
  mask[2].narrow(0, 6, 4).fill_(0);
  return {torch::arange(40, torch::kLong).reshape({4, 10}) % 64, mask, torch::zeros({4}, torch::kLong)};
}

config::DistillSpec spec(uint32_t keep) {
  config::DistillSpec s;
  s.set_snapshot_teachers(keep);
  s.set_snapshot_weight(0.5);
  s.set_snapshot_temperature(0.2);
  return s;
}

// Moves every parameter of `m`: what training between snapshots does.
void perturb(torch::jit::Module& m, double by) {
  torch::NoGradGuard no_grad;
  for (auto& p : model::namedParameters(m)) p.tensor.add_(by);
}

TEST(SnapshotTeachers, FrozenCopiesTheNewestKept) {
  auto m = student();
  auto policy = precision::makePrecisionPolicy("fp32", c10::Device(c10::DeviceType::CPU));
  SnapshotTeachers snapshots(spec(2), m, *policy);
  const data::Batch b = batch();
  const torch::Tensor before = snapshots.represent(b)[0];
  perturb(m, 0.01);
  EXPECT_TRUE(torch::equal(snapshots.represent(b)[0], before));  // the pre-trained copy did not move
  for (uint64_t step : {10, 20, 30}) {
    snapshots.take(m, step);
    perturb(m, 0.01);
  }
  EXPECT_EQ(snapshots.size(), 3u);  // pre-trained + the newest 2
  EXPECT_EQ(snapshots.steps(), (std::vector<uint64_t>{20, 30}));
  const auto reps = snapshots.represent(b);
  ASSERT_EQ(reps.size(), 3u);
  EXPECT_FALSE(torch::allclose(reps[1], reps[2]));
  for (const auto& p : snapshots.state()) EXPECT_FALSE(p.tensor.requires_grad()) << p.name;
}

TEST(SnapshotTeachers, TermIsTheWeightedInfoNCEAgainstEach) {
  auto m = student();
  auto policy = precision::makePrecisionPolicy("fp32", c10::Device(c10::DeviceType::CPU));
  SnapshotTeachers snapshots(spec(3), m, *policy);
  perturb(m, 0.02);
  snapshots.take(m, 5);
  perturb(m, 0.02);
  const data::Batch b = batch();
  const auto reps = snapshots.represent(b);
  const model::ModelOutputs out = model::runModel(m, b.input_ids, b.attention_mask, "student");
  const torch::Tensor term = snapshots.loss(out, b, reps);
  const torch::Tensor s = maskedMean(out.hidden_states[-1], b.attention_mask);
  const double expected =
      0.5 * (infoNCE(s, reps[0], {}, 0.2).mean().item<double>() + infoNCE(s, reps[1], {}, 0.2).mean().item<double>()) / 2;
  EXPECT_NEAR(term.item<double>(), expected, 1e-6);
  term.backward();  // differentiable w.r.t. the student
  double grad = 0;
  for (const auto& p : model::namedParameters(m)) {
    if (p.tensor.grad().defined()) grad += p.tensor.grad().abs().sum().item<double>();
  }
  EXPECT_GT(grad, 0);
}

TEST(SnapshotTeachers, StateRebuildsTheSameTeachers) {
  auto m = student();
  auto policy = precision::makePrecisionPolicy("fp32", c10::Device(c10::DeviceType::CPU));
  SnapshotTeachers snapshots(spec(2), m, *policy);
  for (uint64_t step : {4, 8}) {
    perturb(m, 0.03);
    snapshots.take(m, step);
  }
  std::map<std::string, torch::Tensor> saved;
  for (const auto& t : snapshots.state()) saved[t.name] = t.tensor.clone();

  auto fresh = student();
  SnapshotTeachers resumed(spec(2), fresh, *policy);
  resumed.load(saved, "ckpt/snapshot_teachers.safetensors");
  EXPECT_EQ(resumed.steps(), (std::vector<uint64_t>{4, 8}));
  const data::Batch b = batch();
  const auto want = snapshots.represent(b), got = resumed.represent(b);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_TRUE(torch::equal(got[i], want[i])) << i;

  saved.erase(saved.begin());
  try {
    resumed.load(saved, "ckpt/snapshot_teachers.safetensors");
    FAIL() << "a missing tensor must be an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ckpt/snapshot_teachers.safetensors: no tensor \""), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace distill::kd
