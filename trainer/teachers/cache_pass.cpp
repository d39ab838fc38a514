#include "trainer/teachers/cache_pass.h"

#include <chrono>
#include <filesystem>
#include <numeric>
#include <thread>

#include "common/error.h"
#include "trainer/model/model_io.h"
#include "trainer/teachers/teacher_cache.h"
#include "trainer/teachers/top_k.h"

namespace distill::teachers {

int64_t cacheShard(torch::jit::Module& teacher, const std::string& name, const data::ShardedDataset& data,
                   size_t shard, int64_t top_k, int64_t batch_size, const c10::Device& device, const std::string& dir,
                   const std::function<void()>& heartbeat) {
  const auto& manifest = data.manifest();
  uint64_t first = 0;
  for (size_t i = 0; i < shard; ++i) first += manifest.shards[i].num_samples;
  const uint64_t count = manifest.shards[shard].num_samples;
  std::vector<torch::Tensor> log_probs, indices, residual;
  int64_t vocab = 0;
  c10::InferenceMode inference;
  for (uint64_t begin = 0; begin < count; begin += static_cast<uint64_t>(batch_size)) {
    std::vector<uint64_t> ids(std::min<uint64_t>(static_cast<uint64_t>(batch_size), count - begin));
    std::iota(ids.begin(), ids.end(), first + begin);
    const data::Batch batch = data.gather(ids).to(device);
    const auto out = model::runModel(teacher, batch.input_ids, batch.attention_mask, "teacher '" + name + "'");
    vocab = out.logits.size(-1);
    const TopK t = topK(out.logits, top_k);
    log_probs.push_back(t.log_probs.to(torch::kCPU));
    indices.push_back(t.indices.to(torch::kCPU));
    residual.push_back(t.residual.to(torch::kCPU));
    heartbeat();
  }
  DISTILL_CHECK(vocab > 0, "teacher pass: shard ", shard, " of ", manifest.dir, " has no samples");
  writeCacheShard(dir, shard, {torch::cat(log_probs), torch::cat(indices), torch::cat(residual)}, vocab);
  return vocab;
}

bool waitForFiles(const std::vector<std::string>& paths, const std::function<void()>& heartbeat,
                  double timeout_seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  for (const auto& path : paths) {
    for (int tick = 0; !std::filesystem::exists(path); ++tick) {
      if (timeout_seconds > 0 && std::chrono::steady_clock::now() > deadline) return false;
      if (tick % 10 == 0) heartbeat();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return true;
}

}  // namespace distill::teachers
