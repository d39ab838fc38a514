#include "coordinator/teacher_plan.h"

#include <algorithm>
#include <filesystem>

#include "common/error.h"
#include "common/teacher_cache_layout.h"

namespace distill::coordinator {
namespace fs = std::filesystem;

TeacherPlan planTeachers(const config::JobConfig& cfg, const data::DatasetManifest& manifest, int workers,
                         double epochs, int teacher_ranks) {
  const auto& d = cfg.distill();
  TeacherPlan out;
  placement::Inputs inputs;
  inputs.epochs = epochs;
  inputs.teacher_ranks = teacher_ranks;
  inputs.student_bytes = fs::file_size(cfg.student().path());
  std::vector<teacher_cache::Key> keys;
  const std::string root = teacher_cache::cacheRoot(d.cache().dir(), cfg.data().train());
  const bool may_cache = teacher_ranks == 0 && (d.placement() == "cache" || d.placement() == "auto") &&
                         placement::topKRefusal(d).empty();
  for (const auto& t : d.teachers()) {
    inputs.teacher_bytes.push_back(fs::file_size(t.path()));
    if (!may_cache) continue;
    keys.push_back(teacher_cache::keyFor(t.name(), t.path(), cfg.data().train(), d.cache().top_k()));
    inputs.cache_complete.push_back(teacher_cache::complete(teacher_cache::cacheDir(root, keys.back()), keys.back()));
  }
  out.plan = placement::plan(cfg, inputs);
  if (out.plan.placement == "pool") {
    const auto held = placement::poolAssignment(d.teachers_size(), teacher_ranks);
    for (size_t p = 0; p < held.size(); ++p) {
      control::PoolRank rank;
      rank.set_rank(static_cast<uint32_t>(workers + 1 + static_cast<int>(p)));
      std::string names;
      for (uint32_t k : held[p]) {
        rank.add_teachers(k);
        names += (names.empty() ? "'" : ", '") + d.teachers(static_cast<int>(k)).name() + "'";
      }
      out.pool.push_back(rank);
      out.notes.push_back("teacher rank " + std::to_string(rank.rank()) + " holds teacher(s) " + names);
    }
  }
  if (out.plan.placement != "cache") return out;

  std::vector<uint64_t> load(static_cast<size_t>(workers), 0);
  for (size_t k = 0; k < keys.size(); ++k) {
    const std::string dir = teacher_cache::cacheDir(root, keys[k]);
    out.cache_dirs.push_back(dir);
    control::CacheKey key;
    key.set_teacher(keys[k].teacher);
    key.set_teacher_sha256(keys[k].teacher_sha256);
    key.set_dataset_sha256(keys[k].dataset_sha256);
    key.set_top_k(static_cast<uint32_t>(keys[k].top_k));
    out.cache_keys.push_back(key);
    if (inputs.cache_complete[k]) {
      out.notes.push_back("teacher '" + keys[k].teacher + "': reusing the cache in " + dir);
      continue;
    }
    const auto missing = teacher_cache::missingShards(dir, manifest);
    if (missing.size() < manifest.shards.size()) {
      out.notes.push_back("teacher '" + keys[k].teacher + "': " + dir + " is partial (" +
                          std::to_string(manifest.shards.size() - missing.size()) + " of " +
                          std::to_string(manifest.shards.size()) +
                          " shards, a pass was interrupted): computing the other " + std::to_string(missing.size()));
    } else {
      out.notes.push_back("teacher '" + keys[k].teacher + "': no cache for this teacher file, dataset and k " +
                          std::to_string(keys[k].top_k) + "; the teacher pass writes " + dir);
    }
    for (const auto& other : teacher_cache::otherCaches(root, keys[k])) {
      out.notes.push_back("teacher '" + keys[k].teacher + "': not used (another teacher file, dataset or k): " + other);
    }
    for (size_t shard : missing) {
      const auto least = static_cast<uint32_t>(std::min_element(load.begin(), load.end()) - load.begin());
      load[least] += manifest.shards[shard].num_samples;
      control::CacheWork w;
      w.set_teacher(static_cast<uint32_t>(k));
      w.set_shard(static_cast<uint32_t>(shard));
      w.set_worker(least);
      out.work.push_back(w);
    }
  }
  return out;
}

}  // namespace distill::coordinator
