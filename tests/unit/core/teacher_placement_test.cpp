// The coordinator's teacher placement plan (common/teacher_placement.h): each
// rule of "auto" in its order, an explicit placement kept, teacher ranks
// planned and bad launches refused.
#include <gtest/gtest.h>

#include "common/teacher_placement.h"

namespace distill::placement {
namespace {

config::JobConfig job(int teachers, const std::string& placement = "auto") {
  config::JobConfig cfg;
  for (int i = 0; i < teachers; ++i) cfg.mutable_distill()->add_teachers()->set_name("t" + std::to_string(i));
  cfg.mutable_distill()->set_placement(placement);
  cfg.mutable_distill()->set_combiner("mean");
  return cfg;
}

Inputs inputs(double epochs, bool cached = false) {
  Inputs in;
  in.teacher_bytes = {2'000'000'000, 1'000'000'000};
  in.student_bytes = 100'000'000;
  in.cache_complete = {cached, cached};
  in.epochs = epochs;
  return in;
}

TEST(TeacherPlacement, AutoFollowsItsRulesInOrder) {
  EXPECT_EQ(plan(job(0), inputs(3)).placement, "none");
  config::JobConfig with_terms = job(2);
  with_terms.mutable_distill()->add_terms()->set_kind("hidden_mse");
  EXPECT_EQ(plan(with_terms, inputs(3, true)).placement, "replicate");
  EXPECT_NE(plan(with_terms, inputs(3, true)).reason.find("hidden states"), std::string::npos);
  config::JobConfig mc = job(2);
  mc.mutable_distill()->set_combiner("mc_dropout");
  EXPECT_EQ(plan(mc, inputs(3)).placement, "replicate");
  EXPECT_EQ(plan(job(2), inputs(1, true)).placement, "cache");  // caches present: read them
  config::JobConfig tight = job(2);
  tight.mutable_runtime()->set_memory_budget_gb(2.5);
  const Plan over = plan(tight, inputs(1));
  EXPECT_EQ(over.placement, "cache");
  EXPECT_NE(over.reason.find("exceed runtime.memory_budget_gb"), std::string::npos) << over.reason;
  EXPECT_EQ(plan(job(2), inputs(2)).placement, "cache");
  EXPECT_EQ(plan(job(2), inputs(1)).placement, "replicate");
}

TEST(TeacherPlacement, AnExplicitPlacementIsKept) {
  EXPECT_EQ(plan(job(2, "replicate"), inputs(5, true)).placement, "replicate");
  EXPECT_EQ(plan(job(2, "cache"), inputs(1)).placement, "cache");
}

TEST(TeacherPlacement, TeacherRanksMeanPool) {
  Inputs in = inputs(5, true);
  in.teacher_ranks = 2;
  const Plan p = plan(job(2), in);
  EXPECT_EQ(p.placement, "pool");
  EXPECT_NE(p.reason.find("2 teacher rank(s)"), std::string::npos) << p.reason;
  EXPECT_EQ(plan(job(2, "pool"), in).placement, "pool");
}

TEST(TeacherPlacement, PoolAssignmentOneTeacherPerRankOrSeveralPerRank) {
  using Held = std::vector<std::vector<uint32_t>>;
  EXPECT_EQ(poolAssignment(2, 2), (Held{{0}, {1}}));
  EXPECT_EQ(poolAssignment(2, 3), (Held{{0}, {1}, {0}}));  // teacher 0 replicated
  EXPECT_EQ(poolAssignment(1, 3), (Held{{0}, {0}, {0}}));
  EXPECT_EQ(poolAssignment(5, 2), (Held{{0, 2, 4}, {1, 3}}));
  EXPECT_EQ(poolAssignment(3, 0), Held{});
}

TEST(TeacherPlacement, BadLaunchesAreNamed) {
  auto problem = [](const config::JobConfig& cfg, int ranks, int workers) { return poolProblem(cfg, ranks, workers); };
  EXPECT_EQ(problem(job(2), 0, 4), "");
  EXPECT_EQ(problem(job(2), 2, 2), "");
  EXPECT_EQ(problem(job(2, "pool"), 1, 1), "");
  EXPECT_NE(problem(job(2, "pool"), 0, 4).find("distill.placement: pool needs teacher ranks"), std::string::npos);
  EXPECT_NE(problem(job(0), 2, 2).find("no teachers"), std::string::npos);
  EXPECT_NE(problem(job(2, "cache"), 2, 2).find("teacher ranks serve placement pool only"), std::string::npos);
  EXPECT_NE(problem(job(2), 2, 0).find("--teacher-ranks 2 leaves no student worker: of the 2 ranks"),
            std::string::npos);
  config::JobConfig mc = job(2);
  mc.mutable_distill()->set_combiner("mc_dropout");
  EXPECT_NE(problem(mc, 1, 1).find("mc_dropout"), std::string::npos);
  EXPECT_EQ(problem(job(0), 0, 1), "");  // nothing asked, nothing wrong
}

}  // namespace
}  // namespace distill::placement
