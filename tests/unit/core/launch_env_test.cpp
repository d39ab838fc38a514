#include "common/launch_env.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace distill {
namespace {

LaunchEnv detectFrom(const std::map<std::string, std::string>& vars) {
  return LaunchEnv::detect([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST(LaunchEnv, OpenMpiComesFirst) {
  const auto env = detectFrom({{"OMPI_COMM_WORLD_RANK", "3"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                               {"OMPI_COMM_WORLD_SIZE", "5"}, {"SLURM_PROCID", "0"}, {"RANK", "0"}});
  EXPECT_EQ(env.source, "openmpi");
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.world_size, 5);
}

TEST(LaunchEnv, SlurmThenPlainVariables) {
  auto env = detectFrom({{"SLURM_PROCID", "2"}, {"SLURM_LOCALID", "0"}, {"SLURM_NTASKS", "4"}, {"RANK", "9"}});
  EXPECT_EQ(env.source, "slurm");
  EXPECT_EQ(env.rank, 2);
  EXPECT_EQ(env.world_size, 4);
  env = detectFrom({{"RANK", "1"}, {"LOCAL_RANK", "1"}, {"WORLD_SIZE", "2"}});
  EXPECT_EQ(env.source, "env");
  EXPECT_EQ(env.local_rank, 1);
}

TEST(LaunchEnv, NothingSetIsASingleProcess) {
  const auto env = detectFrom({});
  EXPECT_EQ(env.source, "none");
  EXPECT_EQ(env.rank, 0);
  EXPECT_EQ(env.world_size, 1);
}

TEST(LaunchEnv, BadValuesNameTheVariable) {
  try {
    detectFrom({{"SLURM_PROCID", "x1"}});
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("SLURM_PROCID"), std::string::npos) << e.what();
  }
  try {
    detectFrom({{"RANK", "4"}, {"WORLD_SIZE", "4"}});
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("WORLD_SIZE"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace distill
