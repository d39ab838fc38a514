// configs/demo.yaml stays loadable and valid apart from the files a demo run creates.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "common/config_checks.h"
#include "common/config_loader.h"

namespace distill::config {
namespace {

const std::string kDemo = std::string(DISTILL_SOURCE_DIR) + "/configs/demo.yaml";

TEST(DemoConfig, LoadsWithTheDemoSettings) {
  JobConfig cfg = loadJobConfig(kDemo);
  EXPECT_EQ(cfg.name(), "demo");
  EXPECT_EQ(cfg.run_dir(), "runs/demo");
  EXPECT_EQ(cfg.student().path(), "models/demo/student.pt");
  ASSERT_EQ(cfg.distill().teachers_size(), 3);
  EXPECT_EQ(cfg.distill().teachers(2).path(), "models/demo/teacher2.pt");
  EXPECT_EQ(cfg.distill().combiner(), "confidence");
  EXPECT_TRUE(cfg.sparsity().enabled());
  EXPECT_DOUBLE_EQ(cfg.sparsity().final_sparsity(), 0.8);
  EXPECT_EQ(cfg.checkpoint().keep(), 2u);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(cfg, parseJobConfig(toYaml(cfg), "resolved")));
}

TEST(DemoConfig, TheBaselineDiffersFromTheDemoOnlyInItsTeachers) {
  // The demo's comparison is fair only if the no-teacher student gets the same
  // student, data, steps, optimizer and sparsity.
  JobConfig demo = loadJobConfig(kDemo);
  JobConfig baseline = loadJobConfig(std::string(DISTILL_SOURCE_DIR) + "/configs/demo-baseline.yaml");
  EXPECT_EQ(baseline.distill().teachers_size(), 0);
  for (JobConfig* cfg : {&demo, &baseline}) {
    cfg->clear_name();
    cfg->clear_run_dir();
    cfg->clear_distill();
    cfg->clear_metrics();
  }
  applyDefaults(demo);
  applyDefaults(baseline);
  demo.clear_distill();
  baseline.clear_distill();
  std::string diff;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(demo, baseline)) << diff;
}

TEST(DemoConfig, OnlyMissingFilesAreProblems) {
  // The models and data are produced by the demo run itself; everything else must pass.
  for (const std::string& problem : checkJobConfig(loadJobConfig(kDemo))) {
    bool about_files = problem.find("not found") != std::string::npos ||
                       problem.find("no dataset.json") != std::string::npos;
    EXPECT_TRUE(about_files) << problem;
  }
}

}  // namespace
}  // namespace distill::config
