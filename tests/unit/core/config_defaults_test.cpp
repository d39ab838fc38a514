// applyDefaults: every optional field, the rules that depend on other fields,
// and that given values (zeros included) are never replaced.
#include <gtest/gtest.h>

#include "common/config_loader.h"

namespace distill::config {
namespace {

TEST(ConfigDefaults, EmptyConfigGetsEveryDefault) {
  JobConfig cfg;
  applyDefaults(cfg);
  EXPECT_EQ(cfg.name(), "job");
  EXPECT_EQ(cfg.run_dir(), "runs/job");
  EXPECT_EQ(cfg.seed(), 1234u);
  EXPECT_TRUE(cfg.has_student());
  EXPECT_TRUE(cfg.has_data());

  const TrainingSpec& t = cfg.training();
  EXPECT_EQ(t.batch_size(), 32u);
  EXPECT_EQ(t.epochs(), 1u);
  EXPECT_TRUE(t.has_max_steps());
  EXPECT_EQ(t.max_steps(), 0u);
  EXPECT_TRUE(t.has_eval_every());
  EXPECT_EQ(t.eval_every(), 0u);
  EXPECT_TRUE(t.data_selection().has_fraction());
  EXPECT_DOUBLE_EQ(t.data_selection().fraction(), 0.0);  // off

  const OptimizerSpec& o = cfg.optimizer();
  EXPECT_EQ(o.name(), "adamw");
  EXPECT_DOUBLE_EQ(o.lr(), 5e-4);
  EXPECT_DOUBLE_EQ(o.weight_decay(), 0.01);
  EXPECT_DOUBLE_EQ(o.beta1(), 0.9);
  EXPECT_DOUBLE_EQ(o.beta2(), 0.999);
  EXPECT_DOUBLE_EQ(o.eps(), 1e-8);
  EXPECT_TRUE(o.has_warmup_steps());
  EXPECT_EQ(o.warmup_steps(), 0u);
  EXPECT_EQ(o.decay(), "linear");
  EXPECT_TRUE(o.has_min_lr_ratio());
  EXPECT_DOUBLE_EQ(o.min_lr_ratio(), 0.0);
  EXPECT_DOUBLE_EQ(o.max_grad_norm(), 1.0);

  const DistillSpec& d = cfg.distill();
  EXPECT_DOUBLE_EQ(d.temperature(), 2.0);
  EXPECT_DOUBLE_EQ(d.task_weight(), 1.0);  // no teachers: plain training
  EXPECT_TRUE(d.has_kd_weight());
  EXPECT_DOUBLE_EQ(d.kd_weight(), 0.0);
  EXPECT_EQ(d.combiner(), "mean");
  EXPECT_DOUBLE_EQ(d.confidence_temperature(), 1.0);

  const SparsitySpec& s = cfg.sparsity();
  EXPECT_TRUE(s.has_enabled());
  EXPECT_FALSE(s.enabled());
  EXPECT_EQ(s.criterion(), "magnitude");
  EXPECT_EQ(s.granularity(), "unstructured");
  EXPECT_EQ(s.scope(), "global");
  EXPECT_EQ(s.schedule(), "cubic");
  EXPECT_TRUE(s.has_initial_sparsity() && s.has_final_sparsity());
  EXPECT_DOUBLE_EQ(s.initial_sparsity(), 0.0);
  EXPECT_DOUBLE_EQ(s.final_sparsity(), 0.0);
  EXPECT_TRUE(s.has_warmup_steps() && s.has_cooldown_steps());
  EXPECT_EQ(s.interval(), 10u);

  EXPECT_TRUE(cfg.checkpoint().has_every_steps());
  EXPECT_EQ(cfg.checkpoint().every_steps(), 0u);
  EXPECT_EQ(cfg.checkpoint().keep(), 3u);

  EXPECT_EQ(cfg.metrics().address(), "127.0.0.1");
  EXPECT_EQ(cfg.metrics().port(), 9400u);
  EXPECT_EQ(cfg.metrics().report_every(), 1u);
  EXPECT_DOUBLE_EQ(cfg.metrics().progress_seconds(), 5.0);

  EXPECT_EQ(cfg.runtime().threads_per_worker(), 1u);
  EXPECT_DOUBLE_EQ(cfg.runtime().watchdog_seconds(), 60.0);
  EXPECT_DOUBLE_EQ(cfg.runtime().collective_timeout_seconds(), 120.0);
  EXPECT_EQ(cfg.runtime().backend(), "auto");
}

TEST(ConfigDefaults, TeachersGetNamesWeightsAndSplitTheLoss) {
  JobConfig cfg;
  cfg.set_name("exp");
  cfg.mutable_distill()->add_teachers()->set_path("a.pt");
  TeacherSpec* named = cfg.mutable_distill()->add_teachers();
  named->set_name("big");
  named->set_weight(3.0);
  applyDefaults(cfg);
  EXPECT_EQ(cfg.run_dir(), "runs/exp");
  EXPECT_EQ(cfg.distill().teachers(0).name(), "teacher0");
  EXPECT_DOUBLE_EQ(cfg.distill().teachers(0).weight(), 1.0);
  EXPECT_EQ(cfg.distill().teachers(1).name(), "big");
  EXPECT_DOUBLE_EQ(cfg.distill().teachers(1).weight(), 3.0);
  EXPECT_DOUBLE_EQ(cfg.distill().task_weight(), 0.5);
  EXPECT_DOUBLE_EQ(cfg.distill().kd_weight(), 0.5);
}

TEST(ConfigDefaults, WeightsCombinerLeavesMissingWeightsForTheChecks) {
  JobConfig cfg;
  cfg.mutable_distill()->set_combiner("weights");
  cfg.mutable_distill()->add_teachers()->set_path("a.pt");
  applyDefaults(cfg);
  EXPECT_FALSE(cfg.distill().teachers(0).has_weight());
}

TEST(ConfigDefaults, GivenValuesIncludingZerosAreKept) {
  JobConfig cfg;
  cfg.set_run_dir("/tmp/out");
  cfg.set_seed(0);
  cfg.mutable_sparsity()->set_interval(0);
  cfg.mutable_optimizer()->set_max_grad_norm(0.0);
  cfg.mutable_distill()->set_task_weight(0.0);
  cfg.mutable_distill()->add_teachers();
  cfg.mutable_metrics()->set_port(0);
  applyDefaults(cfg);
  EXPECT_EQ(cfg.run_dir(), "/tmp/out");
  EXPECT_EQ(cfg.seed(), 0u);
  EXPECT_EQ(cfg.sparsity().interval(), 0u);
  EXPECT_DOUBLE_EQ(cfg.optimizer().max_grad_norm(), 0.0);
  EXPECT_DOUBLE_EQ(cfg.distill().task_weight(), 0.0);
  EXPECT_DOUBLE_EQ(cfg.distill().kd_weight(), 0.5);
  EXPECT_EQ(cfg.metrics().port(), 0u);
}

TEST(ConfigDefaults, IsIdempotent) {
  JobConfig once;
  once.mutable_distill()->add_teachers();
  applyDefaults(once);
  JobConfig twice = once;
  applyDefaults(twice);
  EXPECT_EQ(once.SerializeAsString(), twice.SerializeAsString());
}

}  // namespace
}  // namespace distill::config
