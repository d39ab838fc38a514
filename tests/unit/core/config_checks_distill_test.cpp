// The distill section beyond teachers and the logit KL: intermediate terms,
// schedules, the mc_dropout / competency / amalgamation combiners. Defaults
// and checks, each rule firing with its field in the message.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "../scratch_dir.h"
#include "common/config_checks.h"
#include "common/config_loader.h"

namespace distill::config {
namespace {

using distill::testing::ScratchDir;

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

class DistillChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* f : {"student.pt", "t0.pt", "t1.pt"}) std::ofstream(dir.path(f)) << "x";
    std::filesystem::create_directories(dir.path("train"));
    std::ofstream(dir.path("train") + "/dataset.json") << "{}";
  }

  // A valid job with two teachers; `yaml` is the distill section's extra keys.
  JobConfig parse(const std::string& distill_yaml) const {
    return parseJobConfig("distill:\n  teachers: [{path: a}, {path: b}]\n" + distill_yaml, "job.yaml",
                          {"student.path=" + dir.path("student.pt"), "data.train=" + dir.path("train"),
                           "distill.teachers[0].path=" + dir.path("t0.pt"),
                           "distill.teachers[1].path=" + dir.path("t1.pt"), "run_dir=" + dir.path("run")});
  }

  // Expects exactly one problem, containing `part`.
  void expectProblem(const std::string& distill_yaml, const std::string& part) const {
    std::vector<std::string> problems = checkJobConfig(parse(distill_yaml));
    ASSERT_EQ(problems.size(), 1u) << joined(problems);
    EXPECT_NE(problems[0].find(part), std::string::npos) << "missing: " << part << "\nin: " << problems[0];
  }

  void expectValid(const std::string& distill_yaml) const {
    EXPECT_EQ(joined(checkJobConfig(parse(distill_yaml))), "") << distill_yaml;
  }

  ScratchDir dir;
};

TEST_F(DistillChecks, FullSectionIsValidAndGetsItsDefaults) {
  const std::string yaml =
      "  combiner: mc_dropout\n"
      "  mc_dropout: {passes: 3}\n"
      "  temperature: 4.0\n"
      "  temperature_schedule: {end: 1.0}\n"
      "  terms:\n"
      "    - {kind: hidden_mse}\n"
      "    - {kind: hidden_mse, name: top, layers: last, weight: 0.5}\n"
      "    - {kind: attention_mse, layer_map: [{student: 0, teacher: 1}, {student: 1, teacher: 3}]}\n"
      "    - {kind: embedding_mse}\n"
      "    - {kind: infonce}\n"
      "    - {kind: cka}\n"
      "    - {kind: cosine, layers: uniform}\n";
  expectValid(yaml);
  const DistillSpec d = parse(yaml).distill();
  ASSERT_EQ(d.terms_size(), 7);
  EXPECT_EQ(d.terms(0).name(), "hidden_mse");
  EXPECT_DOUBLE_EQ(d.terms(0).weight(), 1.0);
  EXPECT_EQ(d.terms(0).layers(), "uniform");
  EXPECT_FALSE(d.terms(0).has_attention_heads());
  EXPECT_FALSE(d.terms(0).has_temperature());
  EXPECT_EQ(d.terms(1).name(), "top");
  EXPECT_EQ(d.terms(2).layers(), "explicit");
  EXPECT_EQ(d.terms(2).attention_heads(), "average");
  EXPECT_EQ(d.terms(2).layer_map(1).teacher(), 3u);
  EXPECT_EQ(d.terms(3).layers(), "embeddings");
  EXPECT_EQ(d.terms(4).layers(), "last");
  EXPECT_DOUBLE_EQ(d.terms(4).temperature(), 0.1);
  EXPECT_EQ(d.terms(5).layers(), "last");
  EXPECT_EQ(d.terms(6).layers(), "uniform");
  // A written schedule is linear and starts from the base value; one left out is constant.
  EXPECT_EQ(d.temperature_schedule().shape(), "linear");
  EXPECT_DOUBLE_EQ(d.temperature_schedule().end(), 1.0);
  EXPECT_EQ(d.kd_weight_schedule().shape(), "constant");
  EXPECT_DOUBLE_EQ(d.kd_weight_schedule().end(), 0.5);
  EXPECT_EQ(d.mc_dropout().passes(), 3u);
  EXPECT_EQ(d.mc_dropout().mode(), "select");
  EXPECT_DOUBLE_EQ(d.mc_dropout().temperature(), 1.0);
  EXPECT_DOUBLE_EQ(d.competency().temperature(), 1.0);
}

TEST_F(DistillChecks, DefaultsWithoutTermsAndIdempotence) {
  JobConfig cfg;
  applyDefaults(cfg);
  const DistillSpec& d = cfg.distill();
  EXPECT_EQ(d.terms_size(), 0);
  EXPECT_EQ(d.temperature_schedule().shape(), "constant");
  EXPECT_DOUBLE_EQ(d.temperature_schedule().end(), 2.0);
  EXPECT_EQ(d.kd_weight_schedule().shape(), "constant");
  EXPECT_DOUBLE_EQ(d.kd_weight_schedule().end(), 0.0);
  EXPECT_EQ(d.mc_dropout().passes(), 4u);
  JobConfig again = cfg;
  applyDefaults(again);
  EXPECT_EQ(again.SerializeAsString(), cfg.SerializeAsString());
  // The resolved config reads back the same.
  EXPECT_EQ(parseJobConfig(toYaml(parse("  terms: [{kind: attention_mse, layer_map: [{student: 0, teacher: 2}]}]\n")),
                           "resolved.yaml")
                .distill()
                .terms(0)
                .layer_map(0)
                .teacher(),
            2u);
}

TEST_F(DistillChecks, CombinerNames) {
  for (const char* c : {"mc_dropout", "competency", "amalgamation"}) expectValid(std::string("  combiner: ") + c + "\n");
  expectProblem("  combiner: max\n",
                "distill.combiner: unknown combiner \"max\" (accepted: mean, weights, confidence, mc_dropout, "
                "competency, amalgamation)");
}

TEST_F(DistillChecks, TermKindsAndNames) {
  expectProblem("  terms: [{kind: pkd}]\n",
                "distill.terms[0].kind: unknown term \"pkd\" (accepted: hidden_mse, embedding_mse, attention_mse, "
                "cka, infonce, cosine)");
  expectProblem("  terms: [{weight: 1}]\n", "distill.terms[0].kind: required: one of hidden_mse, embedding_mse");
  expectProblem("  terms: [{kind: cka}, {kind: cka}]\n",
                "distill.terms[1].name: term name \"cka\" is used twice; give each term of the same kind a name");
  expectValid("  terms: [{kind: cka}, {kind: cka, name: cka_mid, layers: uniform}]\n");
  expectProblem("  terms: [{kind: cka, name: kd}]\n",
                "distill.terms[0].name: \"kd\" is reserved (distill_loss{term} reports total, task and kd)");
  expectProblem("  terms: [{kind: cka, weight: -1}]\n", "distill.terms[0].weight: must be >= 0, got -1");
}

TEST_F(DistillChecks, TermLayers) {
  expectProblem("  terms: [{kind: hidden_mse, layers: every}]\n",
                "distill.terms[0].layers: unknown layer choice \"every\" (accepted: uniform, last, explicit)");
  expectProblem("  terms: [{kind: hidden_mse, layers: explicit}]\n",
                "distill.terms[0].layer_map: required: layers is \"explicit\"");
  expectProblem("  terms: [{kind: hidden_mse, layers: uniform, layer_map: [{student: 0, teacher: 0}]}]\n",
                "distill.terms[0].layer_map: is given but layers is \"uniform\"");
  expectProblem("  terms: [{kind: hidden_mse, layer_map: [{student: 0}]}]\n",
                "distill.terms[0].layer_map[0].teacher: required: the teacher layer");
  expectProblem("  terms: [{kind: hidden_mse, layer_map: [{student: 1, teacher: 0}, {student: 1, teacher: 2}]}]\n",
                "distill.terms[0].layer_map[1].student: student layer 1 is mapped twice");
  expectProblem("  terms: [{kind: embedding_mse, layers: last}]\n",
                "distill.terms[0].layers: embedding_mse compares the embeddings (hidden_states[0])");
}

TEST_F(DistillChecks, OptionsOfOneKindOnly) {
  expectProblem("  terms: [{kind: attention_mse, attention_heads: first}]\n",
                "distill.terms[0].attention_heads: unknown attention_heads \"first\" (accepted: average, mapped)");
  expectValid("  terms: [{kind: attention_mse, attention_heads: mapped}]\n");
  expectProblem("  terms: [{kind: hidden_mse, attention_heads: mapped}]\n",
                "distill.terms[0].attention_heads: only applies to attention_mse terms");
  expectProblem("  terms: [{kind: infonce, temperature: 0}]\n", "distill.terms[0].temperature: must be > 0, got 0");
  expectProblem("  terms: [{kind: cosine, temperature: 0.5}]\n",
                "distill.terms[0].temperature: only applies to infonce terms");
}

TEST_F(DistillChecks, TermsNeedTeachers) {
  JobConfig cfg = parse("  terms: [{kind: cka}]\n  kd_weight: 0\n");
  cfg.mutable_distill()->clear_teachers();
  std::vector<std::string> problems = checkJobConfig(cfg);
  ASSERT_EQ(problems.size(), 1u) << joined(problems);
  EXPECT_EQ(problems[0], "distill.terms: lists 1 term but distill.teachers is empty; add a teacher");
}

TEST_F(DistillChecks, TermsAloneAreALoss) {
  expectValid("  task_weight: 0\n  kd_weight: 0\n  terms: [{kind: cosine}]\n");
  expectProblem("  task_weight: 0\n  kd_weight: 0\n  terms: [{kind: cosine, weight: 0}]\n",
                "distill.task_weight: task_weight and kd_weight are both 0");
  expectValid("  task_weight: 0\n  kd_weight: 0\n  kd_weight_schedule: {end: 1}\n");
}

TEST_F(DistillChecks, Schedules) {
  expectProblem("  temperature_schedule: {shape: step}\n",
                "distill.temperature_schedule.shape: unknown shape \"step\" (accepted: constant, linear, cosine)");
  expectProblem("  temperature_schedule: {end: 0}\n", "distill.temperature_schedule.end: must be > 0, got 0");
  expectValid("  kd_weight_schedule: {shape: cosine, end: 0}\n");
  expectProblem("  kd_weight_schedule: {end: -1}\n", "distill.kd_weight_schedule.end: must be >= 0, got -1");
  expectValid("  temperature_schedule: {shape: constant, end: 0}\n");  // end ignored
}

TEST_F(DistillChecks, CombinerSections) {
  expectProblem("  combiner: mc_dropout\n  mc_dropout: {passes: 0}\n", "distill.mc_dropout.passes: must be > 0");
  expectProblem("  combiner: mc_dropout\n  mc_dropout: {mode: vote}\n",
                "distill.mc_dropout.mode: unknown mode \"vote\" (accepted: select, softmax)");
  expectProblem("  combiner: mc_dropout\n  mc_dropout: {temperature: 0}\n", "distill.mc_dropout.temperature: must be > 0");
  expectValid("  mc_dropout: {passes: 0}\n");  // only checked when used
  expectProblem("  combiner: competency\n  competency: {temperature: -1}\n",
                "distill.competency.temperature: must be > 0, got -1");
}

TEST_F(DistillChecks, TeacherClassLists) {
  JobConfig cfg = parse("  combiner: amalgamation\n");
  cfg.mutable_distill()->mutable_teachers(0)->add_classes(0);
  cfg.mutable_distill()->mutable_teachers(0)->add_classes(2);
  cfg.mutable_distill()->mutable_teachers(1)->add_classes(1);
  EXPECT_EQ(joined(checkJobConfig(cfg)), "");
  cfg.mutable_distill()->mutable_teachers(1)->add_classes(1);
  std::vector<std::string> problems = checkJobConfig(cfg);
  ASSERT_EQ(problems.size(), 1u) << joined(problems);
  EXPECT_EQ(problems[0], "distill.teachers[1].classes[1]: student class 1 is listed twice; each teacher output must be "
                         "a different student class");
}

TEST_F(DistillChecks, DivergenceDefaultsNamesAndParameters) {
  const JobConfig c = parse("");
  EXPECT_EQ(c.distill().divergence(), "forward_kl");
  EXPECT_DOUBLE_EQ(c.distill().beta(), 0.5);
  EXPECT_DOUBLE_EQ(c.distill().alpha(), 0.1);
  EXPECT_EQ(c.distill().chunk_tokens(), 1024u);
  for (const char* name : {"forward_kl", "reverse_kl", "jsd", "skew_kl", "skew_reverse_kl", "tvd"}) {
    expectValid(std::string("  divergence: ") + name + "\n");
  }
  expectProblem("  divergence: hellinger\n", "distill.divergence: unknown divergence \"hellinger\"");
  expectProblem("  divergence: jsd\n  beta: 1.5\n", "distill.beta: must be in [0, 1], got 1.5");
  expectProblem("  divergence: skew_kl\n  alpha: 1\n", "distill.alpha: must be in [0, 1), got 1");
  expectValid("  chunk_tokens: 0\n");
}

TEST_F(DistillChecks, ReverseDivergencesAreRefusedForTeachersWithAClassList) {
  const std::string amalgamation = "  combiner: amalgamation\n";
  const std::string classes = "  teachers: [{path: a, classes: [0, 1]}, {path: b, classes: [2, 3]}]\n";
  auto job = [&](const std::string& extra) {
    return parseJobConfig("distill:\n" + classes + amalgamation + extra, "job.yaml",
                          {"student.path=" + dir.path("student.pt"), "data.train=" + dir.path("train"),
                           "distill.teachers[0].path=" + dir.path("t0.pt"),
                           "distill.teachers[1].path=" + dir.path("t1.pt"), "run_dir=" + dir.path("run")});
  };
  const std::string problems = joined(checkJobConfig(job("  divergence: reverse_kl\n")));
  EXPECT_NE(problems.find("distill.divergence: reverse_kl is infinite for teacher \"teacher0\""), std::string::npos)
      << problems;
  EXPECT_EQ(joined(checkJobConfig(job("  divergence: skew_reverse_kl\n  alpha: 0.1\n"))), "");
  EXPECT_EQ(joined(checkJobConfig(job("  divergence: jsd\n"))), "");
}

TEST_F(DistillChecks, PlacementPoolAndItsSection) {
  const JobConfig defaults = parse("");
  EXPECT_EQ(defaults.distill().pool().top_k(), 64u);
  EXPECT_EQ(defaults.distill().pool().ahead_steps(), 4u);
  EXPECT_EQ(defaults.distill().pool().max_batch_samples(), 64u);
  expectValid("  placement: pool\n  pool: {top_k: 8, ahead_steps: 1}\n");
  expectProblem("  pool: {ahead_steps: 9}\n", "distill.pool.ahead_steps: must be between 1 and 8");
  expectProblem("  pool: {top_k: 0}\n", "distill.pool.top_k");
  expectProblem("  pool: {max_batch_samples: 0}\n", "distill.pool.max_batch_samples");
  expectProblem("  placement: pool\n  terms: [{kind: cka}]\n", "distill.placement: pool: distill.terms read");
}

}  // namespace
}  // namespace distill::config
