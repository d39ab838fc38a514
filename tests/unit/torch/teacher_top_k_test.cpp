// A teacher's top-k (trainer/teachers/top_k.h) and its cache files
// (teacher_cache.h): exact when k = V, the residual mass kept, the cache's
// float16 values within their rounding, rows gathered by global sample id.
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/dataset_manifest.h"
#include "common/error.h"
#include "common/teacher_cache_layout.h"
#include "tests/unit/scratch_dir.h"
#include "trainer/distill/divergence.h"
#include "trainer/teachers/teacher_cache.h"
#include "trainer/teachers/top_k.h"

namespace distill::teachers {
namespace {

kd::Divergence named(const std::string& name) {
  kd::Divergence d;
  d.name = name;
  d.temperature = 2.0;
  return d;
}

TEST(TeacherTopK, KeepingEveryTokenIsExact) {
  torch::manual_seed(1);
  const torch::Tensor teacher = torch::randn({6, 40}) * 3, student = torch::randn({6, 40});
  const TopK all = topK(teacher, 40);
  EXPECT_TRUE(torch::isinf(all.residual).all().item<bool>());
  const torch::Tensor dense = denseLogits(all, 40);
  EXPECT_TRUE(torch::allclose(torch::log_softmax(dense, -1), torch::log_softmax(teacher, -1), 1e-6, 1e-6));
  for (const auto& name : kd::divergenceNames()) {
    const torch::Tensor live = kd::divergenceRows(student, teacher, named(name));
    const torch::Tensor cached = kd::divergenceRows(student, dense, named(name));
    EXPECT_TRUE(torch::allclose(cached, live, 1e-5, 1e-6)) << name;
  }
}

TEST(TeacherTopK, TheResidualMassIsSpreadOverTheOtherTokens) {
  torch::manual_seed(2);
  const torch::Tensor teacher = torch::randn({3, 5, 100});
  const TopK top = topK(teacher, 8);
  EXPECT_EQ(top.log_probs.sizes(), (std::vector<int64_t>{3, 5, 8}));
  EXPECT_EQ(top.indices.scalar_type(), torch::kInt32);
  const torch::Tensor p = torch::softmax(teacher, -1);
  const torch::Tensor kept = std::get<0>(p.topk(8, -1)).sum(-1);
  EXPECT_TRUE(torch::allclose(top.residual.exp(), 1 - kept, 1e-5, 1e-6));
  const torch::Tensor q = torch::softmax(denseLogits(top, 100), -1);
  EXPECT_TRUE(torch::allclose(q.sum(-1), torch::ones({3, 5}), 1e-5, 1e-6));
  // The k tokens keep their probabilities; the other 92 share the rest equally.
  EXPECT_TRUE(torch::allclose(q.gather(-1, top.indices.to(torch::kLong)), top.log_probs.exp(), 1e-5, 1e-7));
  EXPECT_NEAR(q[0][0].min().item<double>(), top.residual[0][0].exp().item<double>() / 92, 1e-7);
}

TEST(TeacherCache, ShardsRoundTripAndGatherByGlobalSample) {
  testing::ScratchDir dir;
  data::DatasetManifest manifest;
  manifest.dir = dir.path("data");
  manifest.task = data::kTaskLanguageModeling;
  manifest.vocab_size = 50;
  manifest.seq_len = 4;
  manifest.num_samples = 5;
  manifest.shards = {{"shard-00000.safetensors", 3, ""}, {"shard-00001.safetensors", 2, ""}};
  torch::manual_seed(3);
  const torch::Tensor logits = torch::randn({5, 4, 50});
  const std::string cache = dir.path("cache");
  writeCacheShard(cache, 0, topK(logits.slice(0, 0, 3), 6), 50);
  writeCacheShard(cache, 1, topK(logits.slice(0, 3, 5), 6), 50);
  EXPECT_EQ(shardVocab(cache, 1), 50);
  EXPECT_TRUE(teacher_cache::missingShards(cache, manifest).empty());
  const teacher_cache::Key key{"t0", "aa", "bb", 6};
  teacher_cache::writeManifest(cache, key, manifest, 50);
  EXPECT_TRUE(teacher_cache::complete(cache, key));

  const TeacherCache opened = TeacherCache::open(cache, manifest);
  EXPECT_EQ(opened.vocab(), 50);
  EXPECT_EQ(opened.bytesPerPosition(), 6 * 6 + 4);
  const TopK rows = opened.gather({4, 0});  // shard 1 row 1, shard 0 row 0
  const TopK want = topK(torch::stack({logits[4], logits[0]}), 6);
  EXPECT_TRUE(torch::equal(rows.indices, want.indices));
  EXPECT_TRUE(torch::allclose(rows.log_probs, want.log_probs, 0, 2e-3));  // float16 in the file
  EXPECT_TRUE(torch::allclose(rows.residual, want.residual));
}

TEST(TeacherCache, AStaleManifestIsNamedAndAMissingShardIsReported) {
  testing::ScratchDir dir;
  data::DatasetManifest manifest;
  manifest.task = data::kTaskClassification;
  manifest.shards = {{"shard-00000.safetensors", 2, ""}, {"shard-00001.safetensors", 2, ""}};
  const std::string cache = dir.path("cache");
  writeCacheShard(cache, 1, topK(torch::randn({2, 6}), 3), 6);
  EXPECT_EQ(teacher_cache::missingShards(cache, manifest), (std::vector<size_t>{0}));
  writeCacheShard(cache, 0, topK(torch::randn({2, 6}), 3), 6);
  teacher_cache::writeManifest(cache, {"t0", "aa", "bb", 3}, manifest, 6);
  try {
    teacher_cache::complete(cache, {"t0", "another", "bb", 3});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cache.json: a stale teacher cache"), std::string::npos) << e.what();
  }
  const teacher_cache::Key a{"t0", "aa", "bb", 3}, b{"t0", "aa", "bb", 4}, c{"t0", "ab", "bb", 3};
  EXPECT_NE(a.digest(), b.digest());
  EXPECT_NE(a.digest(), c.digest());
  EXPECT_EQ(a.digest().size(), 16u);
}

}  // namespace
}  // namespace distill::teachers
