#include "trainer/data/synthetic_task.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <numeric>

#include "../scratch_dir.h"
#include "common/error.h"
#include "trainer/data/dataset.h"

namespace distill::data {
namespace {

using distill::testing::ScratchDir;

std::vector<uint64_t> allIndices(uint64_t n) {
  std::vector<uint64_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// The real tokens of row b (those under the attention mask).
std::vector<int32_t> realTokens(const Batch& batch, int64_t b) {
  std::vector<int32_t> out;
  for (int64_t t = 0; t < batch.input_ids.size(1); ++t)
    if (batch.attention_mask[b][t].item<int64_t>()) out.push_back(int32_t(batch.input_ids[b][t].item<int64_t>()));
  return out;
}

TEST(SyntheticTask, SignatureClassesOfTokens) {
  // 6 classes: class c owns tokens 2+4c .. 5+4c; 0, 1 and 26+ belong to none.
  EXPECT_EQ(signatureClass(0, 6), -1);
  EXPECT_EQ(signatureClass(1, 6), -1);
  EXPECT_EQ(signatureClass(2, 6), 0);
  EXPECT_EQ(signatureClass(5, 6), 0);
  EXPECT_EQ(signatureClass(6, 6), 1);
  EXPECT_EQ(signatureClass(25, 6), 5);
  EXPECT_EQ(signatureClass(26, 6), -1);
}

TEST(SyntheticTask, CountingRuleByHand) {
  // Class 1 (tokens 6..9) appears 3 times, class 0 twice: class 1.
  EXPECT_EQ(countingRuleLabel({1, 2, 40, 6, 7, 3, 9, 30}, 6), 1);
  // Tie 2:2 between class 0 (first at 3) and class 4 (tokens 18..21, first at 1): class 4.
  EXPECT_EQ(countingRuleLabel({1, 18, 50, 2, 21, 5}, 6), 4);
  // Same tokens, class 0 first: class 0.
  EXPECT_EQ(countingRuleLabel({1, 2, 50, 18, 21, 5}, 6), 0);
  // Noise only.
  EXPECT_EQ(countingRuleLabel({1, 30, 40}, 6), -1);
}

TEST(SyntheticTask, OptionsAreChecked) {
  SyntheticOptions o;
  o.vocab_size = 20;  // 6 classes need 2 + 24 + 4
  EXPECT_THROW(checkSyntheticOptions(o), Error);
  o = {};
  o.label_noise = 1.5;
  EXPECT_THROW(checkSyntheticOptions(o), Error);
  o = {};
  o.classes = {0, 6};
  EXPECT_THROW(checkSyntheticOptions(o), Error);
  o = {};
  o.seq_len = 8;
  EXPECT_THROW(checkSyntheticOptions(o), Error);
  o = {};
  o.task = "regression";
  EXPECT_THROW(checkSyntheticOptions(o), Error);
  EXPECT_NO_THROW(checkSyntheticOptions(SyntheticOptions{}));
}

TEST(SyntheticTask, DeterministicForASeed) {
  ScratchDir dir;
  SyntheticOptions o;
  o.num_samples = 500;
  o.samples_per_shard = 200;
  auto a = writeSyntheticTask(o, dir.path("a"));
  auto b = writeSyntheticTask(o, dir.path("b"));
  ASSERT_EQ(a.shards.size(), 3u);
  for (size_t i = 0; i < a.shards.size(); ++i) EXPECT_EQ(a.shards[i].sha256, b.shards[i].sha256);
  o.seed = 2;
  EXPECT_NE(writeSyntheticTask(o, dir.path("c")).shards[0].sha256, a.shards[0].sha256);
}

TEST(SyntheticTask, SamplesFollowTheDesign) {
  ScratchDir dir;
  SyntheticOptions o;
  o.num_samples = 6000;
  o.label_noise = 0.1;
  auto m = writeSyntheticTask(o, dir.str());
  EXPECT_EQ(m.num_classes, 6);
  EXPECT_EQ(m.vocab_size, 64);
  EXPECT_EQ(m.seq_len, 24);
  auto ds = ShardedDataset::open(dir.str());
  Batch b = ds.gather(allIndices(ds.size()));

  std::vector<int64_t> per_class(6, 0);
  int64_t flipped = 0;
  for (int64_t i = 0; i < int64_t(ds.size()); ++i) {
    std::vector<int32_t> tokens = realTokens(b, i);
    ASSERT_GE(tokens.size(), 12u);
    ASSERT_LE(tokens.size(), 24u);
    ASSERT_EQ(tokens[0], kClsToken);
    // Real tokens are contiguous from position 0.
    ASSERT_EQ(b.attention_mask[i].sum().item<int64_t>(), int64_t(tokens.size()));
    const int64_t label = b.labels[i].item<int64_t>();
    ++per_class[size_t(label)];
    if (label != countingRuleLabel(tokens, 6)) ++flipped;
  }
  // Roughly balanced: each class near 1000 of 6000.
  for (int64_t c = 0; c < 6; ++c) {
    EXPECT_GT(per_class[c], 850) << "class " << c;
    EXPECT_LT(per_class[c], 1150) << "class " << c;
  }
  // About label_noise of the labels disagree with the counting rule.
  EXPECT_GT(flipped, 480);
  EXPECT_LT(flipped, 720);
}

TEST(SyntheticTask, NoNoiseMeansTheRuleHolds) {
  ScratchDir dir;
  SyntheticOptions o;
  o.num_samples = 1000;
  o.label_noise = 0;
  writeSyntheticTask(o, dir.str());
  auto ds = ShardedDataset::open(dir.str());
  Batch b = ds.gather(allIndices(ds.size()));
  for (int64_t i = 0; i < int64_t(ds.size()); ++i)
    ASSERT_EQ(b.labels[i].item<int64_t>(), countingRuleLabel(realTokens(b, i), 6)) << "sample " << i;
}

TEST(SyntheticTask, ClassFilterKeepsASliceOfTheFullStream) {
  ScratchDir dir;
  SyntheticOptions o;
  o.num_samples = 600;
  writeSyntheticTask(o, dir.path("full"));
  auto full_ds = ShardedDataset::open(dir.path("full"));
  o.classes = {1, 4};
  auto m = writeSyntheticTask(o, dir.path("subset"));
  EXPECT_EQ(m.num_classes, 6);  // label ids keep their meaning
  auto sub_ds = ShardedDataset::open(dir.path("subset"));
  Batch full = full_ds.gather(allIndices(full_ds.size()));
  Batch sub = sub_ds.gather(allIndices(sub_ds.size()));

  std::vector<uint64_t> expected;
  for (int64_t i = 0; i < int64_t(full_ds.size()); ++i) {
    int64_t label = full.labels[i].item<int64_t>();
    if (label == 1 || label == 4) expected.push_back(uint64_t(i));
  }
  ASSERT_EQ(sub_ds.size(), expected.size());
  EXPECT_GT(expected.size(), 150u);
  Batch slice = full_ds.gather(expected);
  EXPECT_TRUE(torch::equal(sub.input_ids, slice.input_ids));
  EXPECT_TRUE(torch::equal(sub.labels, slice.labels));

  o.num_samples = 1;
  o.classes = {5};
  EXPECT_THROW(writeSyntheticTask(o, dir.path("none")), Error);  // sample 0 is not class 5
}

TEST(SyntheticTask, RelabelWritesClassListIndices) {
  ScratchDir dir;
  SyntheticOptions o;
  o.num_samples = 600;
  o.classes = {4, 1};
  writeSyntheticTask(o, dir.path("kept"));
  o.relabel = true;
  auto m = writeSyntheticTask(o, dir.path("relabelled"));
  EXPECT_EQ(m.num_classes, 2);  // a 2-output teacher's data
  auto kept = ShardedDataset::open(dir.path("kept"));
  auto relabelled = ShardedDataset::open(dir.path("relabelled"));
  ASSERT_EQ(kept.size(), relabelled.size());
  Batch a = kept.gather(allIndices(kept.size()));
  Batch b = relabelled.gather(allIndices(relabelled.size()));
  EXPECT_TRUE(torch::equal(a.input_ids, b.input_ids));
  // class 4 -> label 0, class 1 -> label 1 (the order of `classes`)
  EXPECT_TRUE(torch::equal(b.labels, torch::where(a.labels == 4, torch::zeros_like(a.labels), torch::ones_like(a.labels))));
  EXPECT_GT(b.labels.sum().item<int64_t>(), 0);
  EXPECT_LT(b.labels.sum().item<int64_t>(), static_cast<int64_t>(b.labels.numel()));

  o.classes.clear();
  EXPECT_THROW(writeSyntheticTask(o, dir.path("no-classes")), Error);
}

TEST(SyntheticTask, LanguageModelingLabelsAreNextTokens) {
  ScratchDir dir;
  SyntheticOptions o;
  o.task = kTaskLanguageModeling;
  o.num_samples = 300;
  auto m = writeSyntheticTask(o, dir.str());
  EXPECT_EQ(m.task, kTaskLanguageModeling);
  auto ds = ShardedDataset::open(dir.str());
  Batch b = ds.gather(allIndices(ds.size()));
  ASSERT_EQ(b.labels.sizes(), (std::vector<int64_t>{300, 24}));
  for (int64_t i = 0; i < 300; ++i) {
    const int64_t length = b.attention_mask[i].sum().item<int64_t>();
    ASSERT_GE(length, 12);
    for (int64_t t = 0; t < 24; ++t) {
      const int64_t expected = t + 1 < length ? b.input_ids[i][t + 1].item<int64_t>() : -100;
      ASSERT_EQ(b.labels[i][t].item<int64_t>(), expected) << "sample " << i << " position " << t;
      if (t < length) {
        ASSERT_GT(b.input_ids[i][t].item<int64_t>(), 0);  // 0 is padding only
      }
    }
  }
  // The chain is not uniform: the most frequent successor of token 5 takes far more than 1/63.
  std::map<int64_t, int64_t> after5;
  int64_t total = 0;
  for (int64_t i = 0; i < 300; ++i)
    for (int64_t t = 0; t < 23; ++t)
      if (b.input_ids[i][t].item<int64_t>() == 5 && b.labels[i][t].item<int64_t>() >= 0)
        ++after5[b.labels[i][t].item<int64_t>()], ++total;
  int64_t top = 0;
  for (auto [token, n] : after5) top = std::max(top, n);
  EXPECT_GT(total, 20);
  EXPECT_GT(double(top) / double(total), 0.15);
}

}  // namespace
}  // namespace distill::data
