// checkJobConfig: a valid config passes; each rule fires with its field in the message.
#include "common/config_checks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "../scratch_dir.h"
#include "common/config_loader.h"
#include "common/error.h"

namespace distill::config {
namespace {

using distill::testing::ScratchDir;

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Files for a valid job: a student, two teachers, a train and an eval set.
class ConfigChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir.path("student.pt")) << "x";
    std::ofstream(dir.path("t0.pt")) << "x";
    std::ofstream(dir.path("t1.pt")) << "x";
    for (const char* set : {"train", "eval"}) {
      std::filesystem::create_directories(dir.path(set));
      std::ofstream(dir.path(set) + "/dataset.json") << "{}";
    }
  }

  JobConfig valid() const {
    JobConfig cfg;
    cfg.mutable_student()->set_path(dir.path("student.pt"));
    cfg.mutable_data()->set_train(dir.path("train"));
    cfg.mutable_data()->set_eval(dir.path("eval"));
    cfg.set_run_dir(dir.path("run"));
    cfg.mutable_distill()->add_teachers()->set_path(dir.path("t0.pt"));
    cfg.mutable_distill()->add_teachers()->set_path(dir.path("t1.pt"));
    cfg.mutable_sparsity()->set_enabled(true);
    cfg.mutable_sparsity()->set_final_sparsity(0.8);
    applyDefaults(cfg);
    return cfg;
  }

  // Applies `change` to a valid config and expects exactly one problem containing `part`.
  void expectProblem(const std::function<void(JobConfig&)>& change, const std::string& part) {
    JobConfig cfg = valid();
    change(cfg);
    std::vector<std::string> problems = checkJobConfig(cfg);
    ASSERT_EQ(problems.size(), 1u) << joined(problems);
    EXPECT_NE(problems[0].find(part), std::string::npos) << "missing: " << part << "\nin: " << problems[0];
  }

  ScratchDir dir;
};

TEST_F(ConfigChecks, ValidConfigPasses) {
  EXPECT_EQ(joined(checkJobConfig(valid())), "");
  EXPECT_NO_THROW(throwIfInvalid(valid(), "job.yaml"));
}

TEST_F(ConfigChecks, RequiredFields) {
  expectProblem([](JobConfig& c) { c.mutable_student()->clear_path(); }, "student.path: required");
  expectProblem([](JobConfig& c) { c.mutable_data()->clear_train(); }, "data.train: required");
  expectProblem([](JobConfig& c) { c.mutable_distill()->mutable_teachers(1)->clear_path(); },
                "distill.teachers[1].path: required");
}

TEST_F(ConfigChecks, FilesAndDirectoriesMustExist) {
  expectProblem([&](JobConfig& c) { c.mutable_student()->set_path(dir.path("nope.pt")); },
                "student.path: file not found: " + dir.path("nope.pt"));
  expectProblem([&](JobConfig& c) { c.mutable_student()->set_path(dir.path("train")); },
                "student.path: " + dir.path("train") + " is a directory");
  expectProblem([&](JobConfig& c) { c.mutable_distill()->mutable_teachers(0)->set_path(dir.path("gone.pt")); },
                "distill.teachers[0].path: file not found");
  expectProblem([&](JobConfig& c) { c.mutable_data()->set_train(dir.path("missing")); },
                "data.train: dataset directory not found");
  expectProblem([&](JobConfig& c) { c.mutable_data()->set_train(dir.str()); },
                "data.train: no dataset.json in " + dir.str());
  expectProblem([&](JobConfig& c) { c.mutable_data()->set_eval(dir.path("missing")); },
                "data.eval: dataset directory not found");
  expectProblem([&](JobConfig& c) { c.set_run_dir(dir.path("t0.pt")); }, "run_dir: ");
}

TEST_F(ConfigChecks, RelativePathsAreRelativeToTheWorkingDirectory) {
  JobConfig cfg = valid();
  cfg.mutable_student()->set_path("student.pt");
  cfg.mutable_data()->set_train("train");
  std::string problems = joined(checkJobConfig(cfg));
  EXPECT_NE(problems.find("(relative to the current directory "), std::string::npos) << problems;
  auto old = std::filesystem::current_path();
  std::filesystem::current_path(dir.str());
  std::string in_dir = joined(checkJobConfig(cfg));
  std::filesystem::current_path(old);
  EXPECT_EQ(in_dir, "");
}

TEST_F(ConfigChecks, Ranges) {
  expectProblem([](JobConfig& c) { c.mutable_training()->set_batch_size(0); }, "training.batch_size: must be > 0, got 0");
  expectProblem([](JobConfig& c) { c.mutable_training()->set_epochs(0); }, "training.epochs: must be > 0");
  expectProblem([](JobConfig& c) { c.mutable_training()->mutable_data_selection()->set_fraction(1.5); },
                "training.data_selection.fraction: must be in (0, 1], or 0 to turn data selection off, got 1.5");
  expectProblem([](JobConfig& c) { c.mutable_training()->mutable_data_selection()->set_fraction(-0.1); },
                "training.data_selection.fraction: must be in (0, 1]");
  expectProblem([](JobConfig& c) { c.mutable_optimizer()->set_lr(0); }, "optimizer.lr: must be > 0, got 0");
  expectProblem([](JobConfig& c) { c.mutable_optimizer()->set_weight_decay(-1); }, "optimizer.weight_decay: must be >= 0");
  expectProblem([](JobConfig& c) { c.mutable_optimizer()->set_beta1(1.0); }, "optimizer.beta1: must be in [0, 1), got 1");
  expectProblem([](JobConfig& c) { c.mutable_optimizer()->set_beta2(-0.1); }, "optimizer.beta2: must be in [0, 1)");
  expectProblem([](JobConfig& c) { c.mutable_optimizer()->set_eps(0); }, "optimizer.eps: must be > 0");
  expectProblem([](JobConfig& c) { c.mutable_optimizer()->set_min_lr_ratio(1.5); }, "optimizer.min_lr_ratio: must be in [0, 1]");
  expectProblem([](JobConfig& c) { c.mutable_optimizer()->set_max_grad_norm(-1); }, "optimizer.max_grad_norm: must be >= 0");
  expectProblem([](JobConfig& c) { c.mutable_distill()->set_temperature(0); }, "distill.temperature: must be > 0");
  expectProblem([](JobConfig& c) { c.mutable_distill()->set_confidence_temperature(-1); },
                "distill.confidence_temperature: must be > 0");
  expectProblem([](JobConfig& c) { c.mutable_distill()->set_kd_weight(-0.5); }, "distill.kd_weight: must be >= 0");
  expectProblem([](JobConfig& c) { c.mutable_distill()->mutable_teachers(0)->set_weight(-1); },
                "distill.teachers[0].weight: must be >= 0");
  expectProblem([](JobConfig& c) { c.mutable_sparsity()->set_final_sparsity(1.0); },
                "sparsity.final_sparsity: must be in [0, 1), got 1");
  expectProblem([](JobConfig& c) { c.mutable_sparsity()->set_initial_sparsity(0.9); },
                "sparsity.initial_sparsity: must be <= sparsity.final_sparsity (0.8), got 0.9");
  expectProblem([](JobConfig& c) { c.mutable_sparsity()->set_interval(0); }, "sparsity.interval: must be > 0");
  expectProblem([](JobConfig& c) { c.mutable_checkpoint()->set_keep(0); }, "checkpoint.keep: must be >= 1");
  expectProblem([](JobConfig& c) { c.mutable_metrics()->set_port(70000); }, "metrics.port: must be <= 65535");
  expectProblem([](JobConfig& c) { c.mutable_metrics()->set_report_every(0); }, "metrics.report_every: must be > 0");
  expectProblem([](JobConfig& c) { c.mutable_runtime()->set_watchdog_seconds(0); }, "runtime.watchdog_seconds: must be > 0");
  expectProblem([](JobConfig& c) { c.mutable_runtime()->set_collective_timeout_seconds(-1); },
                "runtime.collective_timeout_seconds: must be > 0");
  expectProblem([](JobConfig& c) { c.mutable_runtime()->set_threads_per_worker(0); },
                "runtime.threads_per_worker: must be > 0");
}

TEST_F(ConfigChecks, SpeedAndMemoryFields) {
  expectProblem([](JobConfig& c) { c.mutable_training()->set_gradient_accumulation(0); },
                "training.gradient_accumulation: must be >= 1 (micro-batches per optimizer step), got 0");
  expectProblem([](JobConfig& c) { c.mutable_training()->set_gradient_accumulation(3); },
                "training.gradient_accumulation: 3 does not divide training.batch_size 32");
  expectProblem([](JobConfig& c) { c.mutable_runtime()->set_precision("fp8"); },
                "runtime.precision: unknown precision \"fp8\" (accepted: fp32, bf16, fp16)");
  expectProblem([](JobConfig& c) {
    c.mutable_runtime()->set_precision("fp16");
    c.mutable_runtime()->set_backend("gloo");
  }, "runtime.precision: fp16 runs on CUDA only");
  expectProblem([](JobConfig& c) { c.mutable_runtime()->set_zero_stage(3); },
                "runtime.zero_stage: must be 0 (no sharding), 1 (AdamW state sharded over workers) or 2 (AdamW "
                "state and gradients sharded), got 3");
  expectProblem([](JobConfig& c) {
    c.mutable_runtime()->set_zero_stage(2);
    c.mutable_sparsity()->set_criterion("movement");
    c.mutable_sparsity()->set_warmup_steps(1);
  }, "runtime.zero_stage: 2 keeps each gradient on one worker only, and sparsity.criterion \"movement\"");
  expectProblem([](JobConfig& c) { c.mutable_runtime()->set_gradient_bucket_mb(-1); },
                "runtime.gradient_bucket_mb: must be >= 0");
  JobConfig ok = valid();
  ok.mutable_training()->set_gradient_accumulation(4);
  ok.mutable_runtime()->set_precision("bf16");
  ok.mutable_runtime()->set_zero_stage(1);
  ok.mutable_runtime()->set_gradient_bucket_mb(0);
  EXPECT_EQ(joined(checkJobConfig(ok)), "");
}

TEST_F(ConfigChecks, DataSelectionFractionInRangeOrOffPasses) {
  for (double fraction : {0.0, 0.1, 0.3, 1.0}) {
    JobConfig cfg = valid();
    cfg.mutable_training()->mutable_data_selection()->set_fraction(fraction);
    EXPECT_EQ(joined(checkJobConfig(cfg)), "") << fraction;
  }
}

TEST_F(ConfigChecks, IntervalOnlyMattersWhenSparsityIsEnabled) {
  JobConfig cfg = valid();
  cfg.mutable_sparsity()->set_enabled(false);
  cfg.mutable_sparsity()->set_interval(0);
  EXPECT_EQ(joined(checkJobConfig(cfg)), "");
}

// sparsity.masks: the schedule defaults to fixed, under which the target and
// the pattern are the file's; fixed needs the file, the file needs enabled.
TEST_F(ConfigChecks, MasksFromAFileAndTheFixedSchedule) {
  std::ofstream(dir.path("masks.safetensors")) << "x";
  JobConfig cfg = parseJobConfig("sparsity: {enabled: true, masks: " + dir.path("masks.safetensors") +
                                     ", granularity: \"2:4\"}\n", "job.yaml");
  EXPECT_EQ(cfg.sparsity().schedule(), "fixed");
  cfg.mutable_student()->set_path(dir.path("student.pt"));
  cfg.mutable_data()->set_train(dir.path("train"));
  EXPECT_EQ(joined(checkJobConfig(cfg)), "");  // no "final_sparsity must be 0.5" under fixed
  expectProblem([](JobConfig& c) { c.mutable_sparsity()->set_schedule("fixed"); },
                "sparsity.schedule: \"fixed\" keeps the masks of sparsity.masks, which is not set");
  expectProblem([&](JobConfig& c) { c.mutable_sparsity()->set_masks(dir.path("nope.safetensors")); },
                "sparsity.masks: file not found");
  expectProblem(
      [&](JobConfig& c) {
        c.mutable_sparsity()->set_masks(dir.path("masks.safetensors"));
        c.mutable_sparsity()->set_enabled(false);
      },
      "sparsity.masks: is set but sparsity.enabled is false");
}

// sparsity.levels: final_sparsity defaults to the last level; levels ascend
// in [0, 1), need a ranked criterion and granularity, and two or more.
TEST_F(ConfigChecks, DynamicSparsificationLevels) {
  JobConfig cfg = parseJobConfig("sparsity: {enabled: true, levels: [0.5, 0.7, 0.9]}\n", "job.yaml");
  EXPECT_DOUBLE_EQ(cfg.sparsity().final_sparsity(), 0.9);
  EXPECT_EQ(cfg.sparsity().level_order(), "cycle");
  cfg.mutable_student()->set_path(dir.path("student.pt"));
  cfg.mutable_data()->set_train(dir.path("train"));
  EXPECT_EQ(joined(checkJobConfig(cfg)), "");
  auto levels = [](std::initializer_list<double> l) {
    return [l](JobConfig& c) {
      c.mutable_sparsity()->clear_levels();
      for (double v : l) c.mutable_sparsity()->add_levels(v);
      c.mutable_sparsity()->set_final_sparsity(*std::prev(l.end()));
    };
  };
  expectProblem(levels({0.5}), "sparsity.levels: has one level");
  expectProblem(levels({0.7, 0.5}), "sparsity.levels[1]: levels must ascend (densest first), got 0.5 after 0.7");
  expectProblem(levels({-0.1, 0.5}), "sparsity.levels[0]: must be in [0, 1), got -0.1");
  expectProblem([&](JobConfig& c) { levels({0.5, 0.8})(c); c.mutable_sparsity()->set_final_sparsity(0.6); },
                "sparsity.final_sparsity: with sparsity.levels it is the last level (0.8)");
  expectProblem([&](JobConfig& c) { levels({0.5, 0.8})(c); c.mutable_sparsity()->set_level_order("random"); },
                "sparsity.level_order: unknown level order \"random\" (accepted: cycle, sample)");
  expectProblem([](JobConfig& c) { c.mutable_sparsity()->set_level_order("cycle"); },
                "sparsity.level_order: is set but sparsity.levels is empty");
  expectProblem([&](JobConfig& c) { levels({0.5, 0.8})(c); c.mutable_sparsity()->set_criterion("pst"); },
                "sparsity.levels: criterion \"pst\" freezes the weights");
  expectProblem(
      [&](JobConfig& c) {
        levels({0.25, 0.5})(c);
        c.mutable_sparsity()->set_granularity("2:4");
        c.mutable_sparsity()->set_schedule("one_shot");
        c.mutable_sparsity()->set_final_sparsity(0.5);
      },
      "sparsity.levels: granularity 2:4 is one fixed pattern");
}

// distill.snapshot_teachers (CAP): snapshots are taken at mask updates.
TEST_F(ConfigChecks, SnapshotTeachers) {
  JobConfig cfg = valid();
  cfg.mutable_distill()->set_snapshot_teachers(3);
  EXPECT_EQ(joined(checkJobConfig(cfg)), "");
  EXPECT_DOUBLE_EQ(cfg.distill().snapshot_weight(), 0.1);
  expectProblem([](JobConfig& c) {
    c.mutable_distill()->set_snapshot_teachers(2);
    c.mutable_sparsity()->set_enabled(false);
  }, "distill.snapshot_teachers: snapshots are taken at the mask updates of sparsity, which is not enabled");
  expectProblem([](JobConfig& c) { c.mutable_distill()->set_snapshot_teachers(65); },
                "distill.snapshot_teachers: keeps that many copies of the student; at most 64, got 65");
  expectProblem([](JobConfig& c) {
    c.mutable_distill()->set_snapshot_teachers(1);
    c.mutable_distill()->set_snapshot_temperature(0);
  }, "distill.snapshot_temperature: must be > 0, got 0");
}

TEST_F(ConfigChecks, PruningWindowMustFitInMaxSteps) {
  expectProblem(
      [](JobConfig& c) {
        c.mutable_training()->set_max_steps(30);
        c.mutable_sparsity()->set_warmup_steps(20);
        c.mutable_sparsity()->set_cooldown_steps(10);
      },
      "sparsity.warmup_steps: warmup_steps + cooldown_steps (30) leave no steps to prune in training.max_steps (30)");
}

TEST_F(ConfigChecks, KnownNamesListTheAcceptedValues) {
  expectProblem([](JobConfig& c) { c.mutable_optimizer()->set_name("sgd"); },
                "optimizer.name: unknown optimizer \"sgd\" (accepted: adamw)");
  expectProblem([](JobConfig& c) { c.mutable_optimizer()->set_decay("step"); },
                "optimizer.decay: unknown decay \"step\" (accepted: constant, linear, cosine)");
  expectProblem([](JobConfig& c) { c.mutable_distill()->set_combiner("max"); },
                "distill.combiner: unknown combiner \"max\" (accepted: mean, weights, confidence, mc_dropout, "
                "competency, amalgamation)");
  expectProblem([](JobConfig& c) { c.mutable_sparsity()->set_criterion("movement2"); },
                "sparsity.criterion: unknown criterion \"movement2\" (accepted: magnitude, taylor, fisher, movement, "
                "soft_movement, pst, learned)");
  expectProblem([](JobConfig& c) { c.mutable_sparsity()->set_granularity("diagonal"); },
                "sparsity.granularity: unknown granularity \"diagonal\" (accepted: unstructured, N:M, blocks, rows, "
                "columns, neurons, heads)");
  expectProblem([](JobConfig& c) { c.mutable_sparsity()->set_scope("local"); },
                "sparsity.scope: unknown scope \"local\" (accepted: global, per_layer)");
  expectProblem([](JobConfig& c) { c.mutable_sparsity()->set_schedule("linear"); },
                "sparsity.schedule: unknown schedule \"linear\" (accepted: one_shot, constant, iterative, cubic, "
                "reverse_cubic, fixed)");
  expectProblem([](JobConfig& c) { c.mutable_runtime()->set_backend("mpi"); },
                "runtime.backend: unknown backend \"mpi\" (accepted: auto, gloo, nccl)");
}

// Every combination the config allows works; the others are rejected with the reason.
TEST_F(ConfigChecks, SparsityCombinationsSayWhyTheyAreRejected) {
  auto sp = [](JobConfig& c) { return c.mutable_sparsity(); };
  // One change can break several rules; each rejection must carry its reason.
  auto expectProblem = [&](const std::function<void(JobConfig&)>& change, const std::string& part) {
    JobConfig cfg = valid();
    change(cfg);
    const std::string all = joined(checkJobConfig(cfg));
    EXPECT_NE(all.find(part), std::string::npos) << "missing: " << part << "\nin: " << all;
  };
  expectProblem([&](JobConfig& c) { sp(c)->set_granularity("4:2"); },
                "sparsity.granularity: \"4:2\" must be N:M with 0 < N < M");
  // Too many digits for an N:M pattern: named, not a std::stoi exception (issue 14).
  expectProblem([&](JobConfig& c) { sp(c)->set_granularity("99999999999999999999:4"); },
                "sparsity.granularity: \"99999999999999999999:4\": N and M of an N:M pattern have at most 6 digits");
  // A regular expression nested 20000 deep (it crashed validate with SIGSEGV) or too long: named.
  expectProblem([&](JobConfig& c) { sp(c)->add_include(std::string(20000, '(') + "a" + std::string(20000, ')')); },
                "sparsity.include[0]: a regular expression of 40001 characters; at most 1024");
  expectProblem([&](JobConfig& c) { sp(c)->add_exclude(std::string(40, '(') + "a" + std::string(40, ')')); },
                "sparsity.exclude[0]: a regular expression nested 40 groups deep; at most 32");
  expectProblem([&](JobConfig& c) { sp(c)->set_granularity("2:4"); },
                "sparsity.final_sparsity: granularity 2:4 prunes exactly 0.5 of the entries; set final_sparsity: 0.5");
  expectProblem([&](JobConfig& c) { sp(c)->set_granularity("2:4"); sp(c)->set_final_sparsity(0.5); },
                "sparsity.schedule: granularity 2:4 is a fixed pattern, it cannot follow the \"cubic\" curve");
  expectProblem([&](JobConfig& c) {
    sp(c)->set_granularity("2:4"); sp(c)->set_final_sparsity(0.5); sp(c)->set_schedule("one_shot");
    sp(c)->set_criterion("learned");
  }, "sparsity.criterion: \"learned\" keeps entries above a threshold, which cannot guarantee 2:4");
  expectProblem([&](JobConfig& c) { sp(c)->set_criterion("movement"); sp(c)->set_warmup_steps(0); },
                "sparsity.warmup_steps: criterion \"movement\" scores from gradients");
  expectProblem([&](JobConfig& c) { sp(c)->set_criterion("learned"); },
                "sparsity.final_sparsity: criterion \"learned\" keeps the entries whose score exceeds");
  expectProblem([&](JobConfig& c) { sp(c)->set_criterion("soft_movement"); sp(c)->set_final_sparsity(0); },
                "sparsity.schedule: criterion \"soft_movement\" recomputes its masks from the threshold");
  expectProblem([&](JobConfig& c) {
    sp(c)->set_criterion("pst"); sp(c)->mutable_gradient_mask()->set_kind("child_tuning_f");
  }, "sparsity.gradient_mask.kind: \"child_tuning_f\" masks weight gradients, but criterion \"pst\" freezes");
  expectProblem([&](JobConfig& c) { sp(c)->mutable_gradient_mask()->set_kind("child_tuning_x"); },
                "sparsity.gradient_mask.kind: unknown gradient mask \"child_tuning_x\"");
  expectProblem([&](JobConfig& c) { sp(c)->mutable_gradient_mask()->set_kind("child_tuning_f");
                                    sp(c)->mutable_gradient_mask()->set_keep(0); },
                "sparsity.gradient_mask.keep: must be in (0, 1], got 0");
  expectProblem([&](JobConfig& c) { sp(c)->set_schedule("iterative"); sp(c)->set_iterative_fraction(1.5); },
                "sparsity.iterative_fraction: must be in (0, 1), got 1.5");
  expectProblem([&](JobConfig& c) { sp(c)->set_granularity("blocks"); sp(c)->clear_block_shape(); sp(c)->add_block_shape(4); },
                "sparsity.block_shape: must be [rows, columns], both >= 1");
  expectProblem([&](JobConfig& c) { sp(c)->add_groups()->set_kind("experts"); },
                "sparsity.groups[0].kind: unknown group kind \"experts\" (accepted: heads, neurons)");
  expectProblem([&](JobConfig& c) { sp(c)->set_final_sparsity(0); sp(c)->set_initial_sparsity(0); },
                "sparsity.final_sparsity: sparsity is enabled but final_sparsity is 0");

  // Accepted combinations: no problem at all.
  for (const auto& change : std::vector<std::function<void(JobConfig&)>>{
           [&](JobConfig& c) { sp(c)->set_granularity("2:4"); sp(c)->set_final_sparsity(0.5); sp(c)->set_schedule("one_shot"); sp(c)->set_warmup_steps(5); },
           [&](JobConfig& c) { sp(c)->set_criterion("movement"); sp(c)->set_warmup_steps(2); sp(c)->set_granularity("heads"); },
           [&](JobConfig& c) { sp(c)->set_criterion("learned"); sp(c)->set_final_sparsity(0); sp(c)->set_schedule("constant"); },
           [&](JobConfig& c) { sp(c)->set_criterion("pst"); sp(c)->set_scope("per_layer"); sp(c)->set_schedule("reverse_cubic"); },
           [&](JobConfig& c) { sp(c)->set_enabled(false); sp(c)->mutable_gradient_mask()->set_kind("child_tuning_d"); },
       }) {
    JobConfig c = valid();
    change(c);
    EXPECT_EQ(joined(checkJobConfig(c)), "") << c.sparsity().DebugString();
  }
}

TEST_F(ConfigChecks, TeacherRules) {
  expectProblem([](JobConfig& c) { c.mutable_distill()->mutable_teachers(1)->set_name("teacher0"); },
                "distill.teachers[1].name: teacher name \"teacher0\" is used twice");
  expectProblem(
      [](JobConfig& c) {
        c.mutable_distill()->set_combiner("weights");
        c.mutable_distill()->mutable_teachers(1)->clear_weight();
      },
      "distill.teachers[1].weight: required: the `weights` combiner needs a weight for every teacher");
  expectProblem(
      [](JobConfig& c) {
        c.mutable_distill()->set_combiner("weights");
        c.mutable_distill()->mutable_teachers(0)->set_weight(0);
        c.mutable_distill()->mutable_teachers(1)->set_weight(0);
      },
      "distill.teachers: the teacher weights are all 0");
  expectProblem([](JobConfig& c) { c.mutable_distill()->clear_teachers(); },
                "distill.kd_weight: is 0.5 but distill.teachers is empty");
  expectProblem(
      [](JobConfig& c) {
        c.mutable_distill()->set_task_weight(0);
        c.mutable_distill()->set_kd_weight(0);
      },
      "distill.task_weight: task_weight and kd_weight are both 0");
}

TEST_F(ConfigChecks, WeightsCombinerWithWeightsFromYamlPasses) {
  JobConfig cfg = parseJobConfig("distill:\n  combiner: weights\n  teachers:\n    - {path: a, weight: 1}\n"
                                 "    - {path: b, weight: 0}\n",
                                 "job.yaml", {"student.path=" + dir.path("student.pt"), "data.train=" + dir.path("train"),
                                              "distill.teachers[0].path=" + dir.path("t0.pt"),
                                              "distill.teachers[1].path=" + dir.path("t1.pt")});
  EXPECT_EQ(joined(checkJobConfig(cfg)), "");
}

TEST_F(ConfigChecks, BadRegularExpressions) {
  expectProblem([](JobConfig& c) { c.mutable_sparsity()->add_exclude("(unclosed"); },
                "sparsity.exclude[0]: not a valid regular expression \"(unclosed\"");
}

TEST_F(ConfigChecks, EveryProblemIsReportedAndThrownTogether) {
  JobConfig cfg = valid();
  cfg.mutable_training()->set_batch_size(0);
  cfg.mutable_distill()->set_combiner("max");
  std::vector<std::string> problems = checkJobConfig(cfg);
  ASSERT_EQ(problems.size(), 2u) << joined(problems);
  try {
    throwIfInvalid(cfg, "job.yaml");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "job.yaml: 2 problems in the job config:\n  " + problems[0] + "\n  " + problems[1]);
  }
}

TEST_F(ConfigChecks, EmptyConfigNamesTheRequiredFields) {
  std::string problems = joined(checkJobConfig(parseJobConfig("", "job.yaml")));
  EXPECT_NE(problems.find("student.path: required"), std::string::npos) << problems;
  EXPECT_NE(problems.find("data.train: required"), std::string::npos) << problems;
}

}  // namespace
}  // namespace distill::config
