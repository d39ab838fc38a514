// The coordinator's teacher placement plan (common/teacher_placement.h): each
// rule of "auto" in its order, and an explicit placement kept.
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

}  // namespace
}  // namespace distill::placement
