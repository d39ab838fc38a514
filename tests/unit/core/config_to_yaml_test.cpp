// toYaml / toJson: readable output, and load(toYaml(cfg)) == cfg.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "common/config_loader.h"

namespace distill::config {
namespace {

using google::protobuf::util::MessageDifferencer;

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "missing: " << (part) << "\nin: " << (text)

// A config that exercises quoting, lists of messages, lists of strings and awkward numbers.
JobConfig awkwardConfig() {
  JobConfig cfg;
  cfg.set_name("123");  // reads as a number unless quoted
  cfg.set_run_dir("runs/it's here: #1");
  cfg.set_seed(18446744073709551615ull);
  cfg.mutable_student()->set_path("/abs/student.pt");
  cfg.mutable_data()->set_train("true");
  cfg.mutable_data()->set_eval("");
  cfg.mutable_optimizer()->set_lr(0.1 + 0.2);  // 0.30000000000000004: needs all 17 digits
  cfg.mutable_optimizer()->set_eps(1e-12);
  cfg.mutable_optimizer()->set_decay("line\nbreak\t\"quoted\"\\");
  TeacherSpec* t = cfg.mutable_distill()->add_teachers();
  t->set_path("~");
  t->set_weight(2.0);
  cfg.mutable_distill()->add_teachers()->set_path("null");
  cfg.mutable_sparsity()->add_include(".*\\.weight");
  cfg.mutable_sparsity()->add_include("[a, b]");
  cfg.mutable_sparsity()->add_exclude("- dash");
  cfg.mutable_sparsity()->set_final_sparsity(0.8);
  cfg.mutable_metrics()->set_address("0.0.0.0");
  applyDefaults(cfg);
  return cfg;
}

TEST(ConfigToYaml, RoundTripsAResolvedConfig) {
  JobConfig cfg = awkwardConfig();
  std::string yaml = toYaml(cfg);
  JobConfig again = parseJobConfig(yaml, "resolved.yaml");
  std::string diff;
  MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differ.Compare(cfg, again)) << diff << "\n" << yaml;
  EXPECT_EQ(toYaml(again), yaml);
}

TEST(ConfigToYaml, RoundTripsTheDefaults) {
  JobConfig cfg = parseJobConfig("", "empty.yaml");
  EXPECT_TRUE(MessageDifferencer::Equals(cfg, parseJobConfig(toYaml(cfg), "resolved.yaml"))) << toYaml(cfg);
}

TEST(ConfigToYaml, IsReadableBlockYaml) {
  JobConfig cfg = parseJobConfig("name: demo\ndistill:\n  teachers:\n    - path: t0.pt\n", "job.yaml");
  std::string yaml = toYaml(cfg);
  EXPECT_CONTAINS(yaml, "\nname: demo\nrun_dir: runs/demo\nseed: 1234\nstudent:\n  path: ''\n");
  EXPECT_CONTAINS(yaml, "\ntraining:\n  batch_size: 32\n  epochs: 1\n  max_steps: 0\n  eval_every: 0\n");
  EXPECT_CONTAINS(yaml, "  lr: 0.0005\n");
  EXPECT_CONTAINS(yaml, "  eps: 1e-08\n");
  EXPECT_CONTAINS(yaml, "  temperature: 2.0\n");
  EXPECT_CONTAINS(yaml, "  teachers:\n    - name: teacher0\n      path: t0.pt\n      weight: 1.0\n");
  EXPECT_CONTAINS(yaml, "  enabled: false\n");
  EXPECT_CONTAINS(yaml, "  include: []\n");
  EXPECT_CONTAINS(yaml, "  address: '127.0.0.1'\n");
}

TEST(ConfigToYaml, UnsetOptionalFieldsPrintAsNullAndStayUnset) {
  JobConfig raw;
  raw.mutable_training()->set_batch_size(8);
  std::string yaml = toYaml(raw);
  EXPECT_CONTAINS(yaml, "seed: ~\n");
  EXPECT_CONTAINS(yaml, "optimizer: ~\n");
  EXPECT_CONTAINS(yaml, "  epochs: ~\n");
  JobConfig resolved = raw;
  applyDefaults(resolved);
  EXPECT_TRUE(MessageDifferencer::Equals(parseJobConfig(yaml, "raw.yaml"), resolved));
}

TEST(ConfigToJson, UsesProtoFieldNamesAndParsesBack) {
  JobConfig cfg = awkwardConfig();
  std::string json = toJson(cfg);
  EXPECT_CONTAINS(json, "\"batch_size\": 32");
  EXPECT_CONTAINS(json, "\"final_sparsity\": 0.8");
  JobConfig again;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &again).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(cfg, again));
}

}  // namespace
}  // namespace distill::config
