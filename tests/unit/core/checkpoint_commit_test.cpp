#include "coordinator/checkpoint_commit.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/checkpoint_layout.h"
#include "tests/unit/scratch_dir.h"

namespace distill::coordinator {
namespace {
namespace fs = std::filesystem;
namespace layout = checkpoint_layout;

void writePart(const std::string& run_dir, uint64_t step, const std::string& file) {
  fs::create_directories(layout::stagingDir(run_dir, step));
  std::ofstream(fs::path(layout::stagingDir(run_dir, step)) / file) << "x";
}

TEST(CheckpointCommitter, CommitsOnlyWhenEveryWorkerWroteItsPart) {
  testing::ScratchDir dir;
  const std::string run = dir.path("run");
  CheckpointCommitter committer(run, 2, 3);
  writePart(run, 10, "model.safetensors");
  EXPECT_FALSE(committer.partWritten(10, 0));
  EXPECT_FALSE(committer.partWritten(10, 0));  // the same worker twice does not count twice
  EXPECT_FALSE(layout::latest(run).has_value());
  EXPECT_TRUE(committer.partWritten(10, 1));
  const std::string committed = committer.commit(10, nlohmann::json{{"step", 10}});
  EXPECT_EQ(committed, layout::committedDir(run, 10));
  EXPECT_FALSE(fs::exists(layout::stagingDir(run, 10)));
  ASSERT_TRUE(layout::latest(run).has_value());
  EXPECT_EQ(fs::canonical(*layout::latest(run)), fs::canonical(committed));
  EXPECT_EQ(layout::committedStep(committed), 10u);
  EXPECT_TRUE(fs::exists(fs::path(committed) / "model.safetensors"));
}

TEST(CheckpointCommitter, KeepsTheNewestCheckpointsOnly) {
  testing::ScratchDir dir;
  const std::string run = dir.path("run");
  CheckpointCommitter committer(run, 1, 2);
  for (uint64_t step : {10, 20, 30}) {
    writePart(run, step, "model.safetensors");
    ASSERT_TRUE(committer.partWritten(step, 0));
    committer.commit(step, nlohmann::json{{"step", step}});
  }
  EXPECT_FALSE(fs::exists(layout::committedDir(run, 10)));
  EXPECT_TRUE(fs::exists(layout::committedDir(run, 20)));
  EXPECT_TRUE(fs::exists(layout::committedDir(run, 30)));
  EXPECT_EQ(layout::committedStep(*layout::latest(run)), 30u);
}

TEST(CheckpointCommitter, RemovesStagingLeftByACrash) {
  testing::ScratchDir dir;
  const std::string run = dir.path("run");
  writePart(run, 40, "model.safetensors");  // a crash before the commit
  CheckpointCommitter committer(run, 1, 2);
  EXPECT_FALSE(fs::exists(layout::stagingDir(run, 40)));
  EXPECT_FALSE(layout::latest(run).has_value());
}

TEST(CheckpointLayout, CommittedStepNamesTheFileWhenStateIsMissing) {
  testing::ScratchDir dir;
  fs::create_directories(dir.path("ckpt"));
  try {
    layout::committedStep(dir.path("ckpt"));
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("state.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace distill::coordinator
