// JobMetrics: the exposition holds the exact sample lines the reports imply.
// Numbers are chosen exact in binary so the expected text is unambiguous.
#include "monitoring/job_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "common/error.h"

namespace distill::monitoring {
namespace {

control::StepReport makeReport(uint64_t step, double total, uint64_t samples, double step_seconds) {
  control::StepReport r;
  r.set_step(step);
  r.set_epoch(0);
  (*r.mutable_losses())["total"] = total;
  (*r.mutable_losses())["task"] = total / 2;
  (*r.mutable_losses())["kd"] = total / 2;
  r.set_samples(samples);
  r.set_tokens(samples * 128);
  r.set_step_seconds(step_seconds);
  r.set_learning_rate(0.0625);
  r.set_grad_norm(1.5);
  r.set_sparsity_target(0.5);
  r.set_sparsity_actual(0.25);
  return r;
}

void addTeacher(control::StepReport& r, const std::string& name, double kl, double weight) {
  auto* t = r.add_teachers();
  t->set_name(name);
  t->set_kl(kl);
  t->set_weight(weight);
}

// The whole line must be present, not just a prefix of it.
::testing::AssertionResult hasLine(const std::string& text, const std::string& line) {
  if (text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no line\n  " << line << "\nin\n" << text;
}

TEST(JobMetrics, BeforeAnyReportSeriesExistWithNaNOrZero) {
  JobMetrics m("demo", 2, {"bert", "roberta"});
  const std::string text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_workers{job_name="demo"} 2)"));
  EXPECT_TRUE(hasLine(text, R"(distill_samples_total{job_name="demo"} 0)"));
  EXPECT_TRUE(hasLine(text, R"(distill_loss{job_name="demo",term="total"} Nan)"));
  EXPECT_TRUE(hasLine(text, R"(distill_teacher_kl{job_name="demo",teacher="roberta"} Nan)"));
  EXPECT_TRUE(hasLine(text, R"(distill_teacher_weight{job_name="demo",teacher="bert"} Nan)"));
  EXPECT_TRUE(hasLine(text, R"(distill_worker_samples_per_second{job_name="demo",worker="1"} Nan)"));
  EXPECT_TRUE(hasLine(text, R"(distill_checkpoint_last_timestamp_seconds{job_name="demo"} 0)"));
  EXPECT_TRUE(hasLine(text, R"(distill_step_duration_seconds_count{job_name="demo",worker="0"} 0)"));
  EXPECT_TRUE(hasLine(text, R"(distill_mask_changes_total{job_name="demo"} 0)"));
  EXPECT_TRUE(hasLine(text, R"(distill_sparsity_state_bytes{job_name="demo",worker="1"} Nan)"));
  EXPECT_TRUE(hasLine(text, R"(distill_optimizer_state_bytes{job_name="demo",worker="1"} Nan)"));
  EXPECT_TRUE(hasLine(text, R"(distill_criterion_trainable_parameters{job_name="demo"} Nan)"));
  // Parameter names are known only from the first report.
  EXPECT_EQ(text.find("distill_layer_density_ratio{"), std::string::npos);
  EXPECT_EQ(m.port(), 0);
}

TEST(JobMetrics, JobGaugesAreTheMeanOverWorkersAtTheNewestStep) {
  JobMetrics m("demo", 2, {"bert", "roberta"});
  control::StepReport a = makeReport(10, 0.75, 32, 0.5);
  addTeacher(a, "bert", 0.25, 0.75);
  addTeacher(a, "roberta", 0.5, 0.25);
  control::StepReport b = makeReport(10, 1.25, 32, 0.5);
  addTeacher(b, "bert", 0.75, 0.25);
  addTeacher(b, "roberta", 1.0, 0.75);
  b.set_grad_norm(2.5);
  m.recordReport(0, a);
  m.recordReport(1, b);

  std::string text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_loss{job_name="demo",term="total"} 1)"));   // (0.75 + 1.25) / 2
  EXPECT_TRUE(hasLine(text, R"(distill_loss{job_name="demo",term="task"} 0.5)"));   // (0.375 + 0.625) / 2
  EXPECT_TRUE(hasLine(text, R"(distill_loss{job_name="demo",term="kd"} 0.5)"));
  EXPECT_TRUE(hasLine(text, R"(distill_teacher_kl{job_name="demo",teacher="bert"} 0.5)"));
  EXPECT_TRUE(hasLine(text, R"(distill_teacher_kl{job_name="demo",teacher="roberta"} 0.75)"));
  EXPECT_TRUE(hasLine(text, R"(distill_teacher_weight{job_name="demo",teacher="bert"} 0.5)"));
  EXPECT_TRUE(hasLine(text, R"(distill_grad_norm{job_name="demo"} 2)"));
  EXPECT_TRUE(hasLine(text, R"(distill_learning_rate{job_name="demo"} 0.0625)"));
  EXPECT_TRUE(hasLine(text, R"(distill_sparsity_target_ratio{job_name="demo"} 0.5)"));
  EXPECT_TRUE(hasLine(text, R"(distill_sparsity_actual_ratio{job_name="demo"} 0.25)"));
  EXPECT_TRUE(hasLine(text, R"(distill_samples_total{job_name="demo"} 64)"));
  EXPECT_TRUE(hasLine(text, R"(distill_tokens_total{job_name="demo"} 8192)"));

  // Worker 0 moves ahead: the job gauges follow it alone until worker 1 catches up.
  m.recordReport(0, makeReport(20, 0.5, 320, 0.25));
  text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_loss{job_name="demo",term="total"} 0.5)"));
  EXPECT_TRUE(hasLine(text, R"(distill_grad_norm{job_name="demo"} 1.5)"));
  m.recordReport(1, makeReport(20, 1.5, 320, 0.25));
  EXPECT_TRUE(hasLine(m.exposition(), R"(distill_loss{job_name="demo",term="total"} 1)"));
}

TEST(JobMetrics, WorkerThroughputComesFromStepsSinceThePreviousReport) {
  JobMetrics m("demo", 2, {});
  m.recordReport(0, makeReport(10, 1, 32, 0.5));
  // The first report of a worker gives no rate: it is not known how many steps it covers.
  EXPECT_TRUE(hasLine(m.exposition(), R"(distill_worker_samples_per_second{job_name="demo",worker="0"} Nan)"));
  // 10 steps of 0.25 s each consumed 320 samples and 40960 tokens.
  m.recordReport(0, makeReport(20, 1, 320, 0.25));
  const std::string text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_worker_samples_per_second{job_name="demo",worker="0"} 128)"));
  EXPECT_TRUE(hasLine(text, R"(distill_worker_tokens_per_second{job_name="demo",worker="0"} 16384)"));
  EXPECT_TRUE(hasLine(text, R"(distill_worker_reports_total{job_name="demo",worker="0"} 2)"));
  EXPECT_TRUE(hasLine(text, R"(distill_worker_step{job_name="demo",worker="0"} 20)"));
  EXPECT_DOUBLE_EQ(m.summary().samples_per_second, 128);
}

TEST(JobMetrics, LateReportsFeedCountersButNotGauges) {
  JobMetrics m("demo", 1, {});
  m.recordReport(0, makeReport(20, 0.5, 8, 0.5));
  m.recordReport(0, makeReport(10, 4.0, 8, 0.5));  // arrives late
  const std::string text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_loss{job_name="demo",term="total"} 0.5)"));
  EXPECT_TRUE(hasLine(text, R"(distill_samples_total{job_name="demo"} 16)"));
  EXPECT_TRUE(hasLine(text, R"(distill_worker_step{job_name="demo",worker="0"} 20)"));
  EXPECT_TRUE(hasLine(text, R"(distill_worker_samples_per_second{job_name="demo",worker="0"} Nan)"));
}

TEST(JobMetrics, StepDurationHistogramAndPhaseBreakdown) {
  JobMetrics m("demo", 2, {});
  control::StepReport r = makeReport(1, 1, 4, 0.3);
  (*r.mutable_phase_seconds())["forward"] = 0.125;
  (*r.mutable_phase_seconds())["backward"] = 0.25;
  m.recordReport(1, r);
  m.recordReport(1, makeReport(2, 1, 4, 3.0));
  const std::string text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_step_duration_seconds_count{job_name="demo",worker="1"} 2)"));
  EXPECT_TRUE(hasLine(text, R"(distill_step_duration_seconds_sum{job_name="demo",worker="1"} 3.3)"));
  EXPECT_TRUE(hasLine(text, R"(distill_step_duration_seconds_bucket{job_name="demo",worker="1",le="0.25"} 0)"));
  EXPECT_TRUE(hasLine(text, R"(distill_step_duration_seconds_bucket{job_name="demo",worker="1",le="0.5"} 1)"));
  EXPECT_TRUE(hasLine(text, R"(distill_step_duration_seconds_bucket{job_name="demo",worker="1",le="2.5"} 1)"));
  EXPECT_TRUE(hasLine(text, R"(distill_step_duration_seconds_bucket{job_name="demo",worker="1",le="5"} 2)"));
  EXPECT_TRUE(hasLine(text, R"(distill_step_duration_seconds_bucket{job_name="demo",worker="1",le="+Inf"} 2)"));
  EXPECT_TRUE(hasLine(text, R"(distill_step_duration_seconds_count{job_name="demo",worker="0"} 0)"));
  // The breakdown is that of the latest report that had one.
  EXPECT_TRUE(hasLine(text, R"(distill_phase_seconds{job_name="demo",phase="backward",worker="1"} 0.25)"));
  EXPECT_TRUE(hasLine(text, R"(distill_phase_seconds{job_name="demo",phase="forward",worker="1"} 0.125)"));
}

TEST(JobMetrics, ProgressWatchdogAndCurrentPhase) {
  JobMetrics m("demo", 2, {});
  m.recordProgress(1, 7, "forward", 1700000000.5);
  m.recordProgress(1, 7, "backward", 1700000001.25);
  std::string text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_worker_last_progress_timestamp_seconds{job_name="demo",worker="1"} 1700000001.25)"));
  EXPECT_TRUE(hasLine(text, R"(distill_worker_last_progress_timestamp_seconds{job_name="demo",worker="0"} 0)"));
  EXPECT_TRUE(hasLine(text, R"(distill_worker_step{job_name="demo",worker="1"} 7)"));
  EXPECT_TRUE(hasLine(text, R"(distill_worker_phase{job_name="demo",phase="backward",worker="1"} 1)"));
  EXPECT_TRUE(hasLine(text, R"(distill_worker_phase{job_name="demo",phase="forward",worker="1"} 0)"));

  m.setWatchdog(1, 42.5);
  EXPECT_TRUE(hasLine(m.exposition(), R"(distill_worker_seconds_since_progress{job_name="demo",worker="1"} 42.5)"));
  m.recordProgress(1, 8, "data", 1700000050);  // progress resets the watchdog's measure
  EXPECT_TRUE(hasLine(m.exposition(), R"(distill_worker_seconds_since_progress{job_name="demo",worker="1"} 0)"));
}

TEST(JobMetrics, JobStateCheckpointAndEval) {
  JobMetrics m("demo", 1, {});
  m.setJobState(120, 600, 2, 72);
  m.recordCheckpoint(100, 1700000123);
  m.recordEval(100, 0.875, 0.375);
  const std::string text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_step{job_name="demo"} 120)"));
  EXPECT_TRUE(hasLine(text, R"(distill_total_steps{job_name="demo"} 600)"));
  EXPECT_TRUE(hasLine(text, R"(distill_epoch{job_name="demo"} 2)"));
  EXPECT_TRUE(hasLine(text, R"(distill_eta_seconds{job_name="demo"} 72)"));
  EXPECT_TRUE(hasLine(text, R"(distill_checkpoint_last_step{job_name="demo"} 100)"));
  EXPECT_TRUE(hasLine(text, R"(distill_checkpoint_last_timestamp_seconds{job_name="demo"} 1700000123)"));
  EXPECT_TRUE(hasLine(text, R"(distill_eval_last_step{job_name="demo"} 100)"));
  EXPECT_TRUE(hasLine(text, R"(distill_eval_accuracy_ratio{job_name="demo"} 0.875)"));
  EXPECT_TRUE(hasLine(text, R"(distill_eval_loss{job_name="demo"} 0.375)"));
}

TEST(JobMetrics, NewLossTermsAndTeachersGetSeriesOnFirstReport) {
  JobMetrics m("demo", 1, {"bert"});
  control::StepReport r = makeReport(1, 1, 4, 0.5);
  (*r.mutable_losses())["hidden_mse"] = 0.125;
  addTeacher(r, "gpt", 0.5, 1.0);
  m.recordReport(0, r);
  const std::string text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_loss{job_name="demo",term="hidden_mse"} 0.125)"));
  EXPECT_TRUE(hasLine(text, R"(distill_teacher_kl{job_name="demo",teacher="gpt"} 0.5)"));
  EXPECT_TRUE(hasLine(text, R"(distill_teacher_kl{job_name="demo",teacher="bert"} Nan)"));
}

control::StepReport withSparsityState(control::StepReport r, uint64_t mask_changes, uint64_t score_bytes,
                                      uint64_t trainable) {
  r.set_mask_changes(mask_changes);
  r.set_score_bytes(score_bytes);
  r.set_criterion_trainable(trainable);
  return r;
}

TEST(JobMetrics, SparsityStateLandsWithItsLabels) {
  JobMetrics m("demo", 2, {});
  control::StepReport a = withSparsityState(makeReport(10, 1, 8, 0.5), 96, 4096, 384);
  (*a.mutable_layer_density())["layers.0.ffn.up.weight"] = 0.5;
  (*a.mutable_layer_density())["layers.0.attn.q.weight"] = 0.75;
  control::StepReport b = withSparsityState(makeReport(10, 1, 8, 0.5), 96, 8192, 384);
  a.set_optimizer_bytes(1000);
  b.set_optimizer_bytes(1200);
  (*b.mutable_layer_density())["layers.0.ffn.up.weight"] = 0.5;
  (*b.mutable_layer_density())["layers.0.attn.q.weight"] = 0.75;
  m.recordReport(0, a);
  m.recordReport(1, b);
  std::string text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_layer_density_ratio{job_name="demo",param="layers.0.attn.q.weight"} 0.75)"));
  EXPECT_TRUE(hasLine(text, R"(distill_layer_density_ratio{job_name="demo",param="layers.0.ffn.up.weight"} 0.5)"));
  // The same 96 entries changed on both workers: counted once.
  EXPECT_TRUE(hasLine(text, R"(distill_mask_changes_total{job_name="demo"} 96)"));
  EXPECT_TRUE(hasLine(text, R"(distill_sparsity_state_bytes{job_name="demo",worker="0"} 4096)"));
  EXPECT_TRUE(hasLine(text, R"(distill_sparsity_state_bytes{job_name="demo",worker="1"} 8192)"));
  EXPECT_TRUE(hasLine(text, R"(distill_optimizer_state_bytes{job_name="demo",worker="0"} 1000)"));
  EXPECT_TRUE(hasLine(text, R"(distill_optimizer_state_bytes{job_name="demo",worker="1"} 1200)"));
  EXPECT_TRUE(hasLine(text, R"(distill_criterion_trainable_parameters{job_name="demo"} 384)"));

  // A report without densities (no mask update since the previous one) keeps
  // them; mask changes add up over reports.
  m.recordReport(0, withSparsityState(makeReport(20, 1, 8, 0.5), 32, 4096, 384));
  text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_layer_density_ratio{job_name="demo",param="layers.0.ffn.up.weight"} 0.5)"));
  EXPECT_TRUE(hasLine(text, R"(distill_mask_changes_total{job_name="demo"} 128)"));

  // Worker 1 reports a newer update (step 30); worker 0's report of step 20,
  // still behind, does not overwrite it.
  control::StepReport newer = withSparsityState(makeReport(30, 1, 8, 0.5), 16, 8192, 384);
  (*newer.mutable_layer_density())["layers.0.ffn.up.weight"] = 0.25;
  m.recordReport(1, newer);
  control::StepReport older = withSparsityState(makeReport(25, 1, 8, 0.5), 0, 4096, 384);
  (*older.mutable_layer_density())["layers.0.ffn.up.weight"] = 0.375;
  m.recordReport(0, older);
  text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_layer_density_ratio{job_name="demo",param="layers.0.ffn.up.weight"} 0.25)"));
  EXPECT_TRUE(hasLine(text, R"(distill_layer_density_ratio{job_name="demo",param="layers.0.attn.q.weight"} 0.75)"));
  // Worker 1's changes are not counted (worker 0's are the job's).
  EXPECT_TRUE(hasLine(text, R"(distill_mask_changes_total{job_name="demo"} 128)"));
}

TEST(JobMetrics, CriterionTrainableIsTheMeanAtTheNewestStep) {
  JobMetrics m("demo", 2, {});
  m.recordReport(0, withSparsityState(makeReport(10, 1, 8, 0.5), 0, 0, 256));
  m.recordReport(1, withSparsityState(makeReport(10, 1, 8, 0.5), 0, 0, 512));
  EXPECT_TRUE(hasLine(m.exposition(), R"(distill_criterion_trainable_parameters{job_name="demo"} 384)"));
  m.recordReport(0, withSparsityState(makeReport(20, 1, 8, 0.5), 0, 0, 128));
  EXPECT_TRUE(hasLine(m.exposition(), R"(distill_criterion_trainable_parameters{job_name="demo"} 128)"));
}

TEST(JobMetrics, EveryFamilyHasHelpText) {
  JobMetrics m("demo", 1, {"bert"});
  control::StepReport r = makeReport(1, 1, 4, 0.5);
  (*r.mutable_phase_seconds())["forward"] = 0.125;
  (*r.mutable_layer_density())["layers.0.ffn.up.weight"] = 0.5;
  m.recordReport(0, r);
  m.recordProgress(0, 2, "data", 1700000000);
  m.setTeacherCacheBytes("bert", 388);  // only jobs with a teacher cache have this family
  m.recordLevelEval("0.7", 0.5, 1.0);   // only jobs with sparsity.levels have these two
  const std::string text = m.exposition();
  size_t families = 0;
  for (size_t at = text.find("# TYPE "); at != std::string::npos; at = text.find("# TYPE ", at + 1)) {
    const std::string name = text.substr(at + 7, text.find(' ', at + 7) - at - 7);
    const size_t help = text.find("# HELP " + name + " ");
    ASSERT_NE(help, std::string::npos) << name;
    EXPECT_GT(text.find('\n', help) - help, name.size() + 20) << "help of " << name << " is too short";
    ++families;
  }
  EXPECT_EQ(families, 40u);  // docs/metrics.md lists each one
}

TEST(JobMetrics, TeacherTimesWaitsAndCacheHits) {
  JobMetrics m("lm", 2, {"big"});
  for (int w = 0; w < 2; ++w) {
    control::StepReport r = makeReport(3, 1, 8, 0.5);
    r.clear_teachers();
    auto* t = r.add_teachers();
    t->set_name("big");
    t->set_seconds(w == 0 ? 0.25 : 0.75);
    (*r.mutable_phase_seconds())["teachers"] = w == 0 ? 0.5 : 1.5;
    r.set_cached_samples(8);
    m.recordReport(w, r);
  }
  m.setTeacherCacheBytes("big", 388);
  const std::string text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_teacher_seconds{job_name="lm",teacher="big"} 0.5)")) << text;
  EXPECT_TRUE(hasLine(text, R"(distill_teacher_wait_seconds{job_name="lm"} 1)")) << text;
  EXPECT_TRUE(hasLine(text, R"(distill_teacher_cache_hits_total{job_name="lm"} 16)")) << text;
  EXPECT_TRUE(hasLine(text, R"(distill_teacher_cache_bytes_per_token{job_name="lm",teacher="big"} 388)")) << text;
}

TEST(JobMetrics, EvalPerSparsityLevel) {
  JobMetrics m("levels", 2, {});
  m.recordEval(40, 0.8, 0.5);
  m.recordLevelEval("0.5", 0.8, 0.5);
  m.recordLevelEval("0.9", 0.7, 0.75);
  const std::string text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_eval_level_loss{job_name="levels",level="0.9"} 0.75)")) << text;
  EXPECT_TRUE(hasLine(text, R"(distill_eval_level_accuracy{job_name="levels",level="0.5"} 0.8)")) << text;
  EXPECT_TRUE(hasLine(text, R"(distill_eval_loss{job_name="levels"} 0.5)")) << text;
}

TEST(JobMetrics, SummaryFeedsTheProgressLine) {
  JobMetrics m("demo", 2, {});
  EXPECT_TRUE(std::isnan(m.summary().loss));
  EXPECT_EQ(m.summary().samples_per_second, 0);
  m.recordReport(0, makeReport(1, 0.75, 10, 0.5));
  m.recordReport(0, makeReport(2, 0.75, 10, 0.5));   // 20 samples/s
  m.recordReport(1, makeReport(1, 1.25, 10, 0.25));
  m.recordReport(1, makeReport(2, 1.25, 10, 0.25));  // 40 samples/s
  const JobSummary s = m.summary();
  EXPECT_DOUBLE_EQ(s.loss, 1.0);
  EXPECT_DOUBLE_EQ(s.samples_per_second, 60);
  EXPECT_DOUBLE_EQ(s.sparsity_actual, 0.25);
  EXPECT_DOUBLE_EQ(s.sparsity_target, 0.5);
}

TEST(JobMetrics, RejectsBadWorkerIndexAndWorkerCount) {
  EXPECT_THROW(JobMetrics("demo", 0, {}), Error);
  JobMetrics m("demo", 2, {});
  EXPECT_THROW(m.recordReport(2, makeReport(1, 1, 1, 1)), std::logic_error);
  EXPECT_THROW(m.recordProgress(-1, 1, "data", 0), std::logic_error);
  EXPECT_THROW(m.setWatchdog(5, 1), std::logic_error);
}

}  // namespace
}  // namespace distill::monitoring

namespace distill::monitoring {
namespace {

TEST(JobMetrics, LanguageModelingEvalReportsPerplexity) {
  JobMetrics m("lm", 1, {});
  m.recordEval(5, 0.25, std::log(10.0), /*language_modeling=*/true);
  const std::string text = m.exposition();
  EXPECT_NE(text.find("distill_eval_perplexity{job_name=\"lm\"} 10\n"), std::string::npos) << text;
  JobMetrics classification("cls", 1, {});
  classification.recordEval(5, 0.25, std::log(10.0));
  EXPECT_NE(classification.exposition().find("distill_eval_perplexity{job_name=\"cls\"} Nan"), std::string::npos);
}

TEST(JobMetrics, TeacherRanksCountTheirBatchesAndBusySeconds) {
  JobMetrics m("lm", 2, {"big"});
  EXPECT_EQ(m.exposition().find("distill_teacher_rank_batches_total{"), std::string::npos);  // no pool, no series
  control::PoolReport r;
  r.set_batches(2);
  r.set_busy_seconds(0.5);
  m.recordPoolReport(3, r);
  m.recordPoolReport(3, r);
  m.recordPoolReport(4, r);
  const std::string text = m.exposition();
  EXPECT_TRUE(hasLine(text, R"(distill_teacher_rank_batches_total{job_name="lm",rank="3"} 4)")) << text;
  EXPECT_TRUE(hasLine(text, R"(distill_teacher_rank_busy_seconds_total{job_name="lm",rank="3"} 1)"));
  EXPECT_TRUE(hasLine(text, R"(distill_teacher_rank_batches_total{job_name="lm",rank="4"} 2)"));
}

}  // namespace
}  // namespace distill::monitoring
