#include "common/launch_env.h"

#include <cstdlib>

#include "common/error.h"

namespace distill {
namespace {

struct Names {
  const char* source;
  const char* rank;
  const char* local_rank;
  const char* world_size;
};

// In the order they are trusted.
constexpr Names kLaunchers[] = {
    {"openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_SIZE"},
    {"slurm", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_NTASKS"},
    {"env", "RANK", "LOCAL_RANK", "WORLD_SIZE"},
};

int parse(const char* name, const char* value, int min) {
  char* end = nullptr;
  const long v = std::strtol(value, &end, 10);
  DISTILL_CHECK(*value && !*end && v >= min && v < (1L << 30), "environment variable ", name, "=\"", value,
                "\" is not a valid number (>= ", min, ")");
  return static_cast<int>(v);
}

}  // namespace

LaunchEnv LaunchEnv::detect(const std::function<const char*(const char*)>& getenv) {
  const auto get = [&](const char* name) -> const char* { return getenv ? getenv(name) : std::getenv(name); };
  for (const Names& n : kLaunchers) {
    const char* rank = get(n.rank);
    if (!rank) continue;
    LaunchEnv env;
    env.source = n.source;
    env.rank = parse(n.rank, rank, 0);
    const char* local = get(n.local_rank);
    env.local_rank = local ? parse(n.local_rank, local, 0) : 0;
    const char* size = get(n.world_size);
    env.world_size = size ? parse(n.world_size, size, 1) : env.rank + 1;
    DISTILL_CHECK(env.rank < env.world_size, n.rank, "=", env.rank, " is not below ", n.world_size, "=",
                  env.world_size);
    return env;
  }
  return LaunchEnv{};
}

}  // namespace distill
