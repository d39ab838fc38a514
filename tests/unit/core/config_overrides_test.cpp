// `--set PATH=VALUE` overrides: paths with indices, appending, value types, errors.
#include "common/config_overrides.h"

#include <gtest/gtest.h>

#include "common/config_loader.h"
#include "common/error.h"

namespace distill::config {
namespace {

template <typename F>
std::string errorOf(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "missing: " << (part) << "\nin: " << (text)

const char* kJob = R"(
training:
  batch_size: 16
distill:
  teachers:
    - path: t0.pt
    - path: t1.pt
data:
  eval: data/eval
)";

JobConfig withOverrides(const std::vector<std::string>& overrides, const std::string& yaml = kJob) {
  return parseJobConfig(yaml, "job.yaml", overrides);
}

std::string overrideError(const std::string& assignment) {
  return errorOf([&] { withOverrides({assignment}); });
}

TEST(ConfigOverrides, SetsScalarsInNestedSections) {
  JobConfig cfg = withOverrides({"training.batch_size=64", "sparsity.final_sparsity=0.9", "sparsity.enabled=true",
                                 "name=exp1"});
  EXPECT_EQ(cfg.training().batch_size(), 64u);
  EXPECT_DOUBLE_EQ(cfg.sparsity().final_sparsity(), 0.9);
  EXPECT_TRUE(cfg.sparsity().enabled());
  EXPECT_EQ(cfg.name(), "exp1");
  EXPECT_EQ(cfg.run_dir(), "runs/exp1");  // the default follows the overridden name
}

TEST(ConfigOverrides, IndexesListsAndAppendsOnePastTheEnd) {
  JobConfig cfg = withOverrides({"distill.teachers[0].weight=2", "distill.teachers[2].path=t2.pt",
                                 "distill.teachers[2].name=third"});
  ASSERT_EQ(cfg.distill().teachers_size(), 3);
  EXPECT_DOUBLE_EQ(cfg.distill().teachers(0).weight(), 2.0);
  EXPECT_EQ(cfg.distill().teachers(0).path(), "t0.pt");  // untouched fields stay
  EXPECT_EQ(cfg.distill().teachers(2).path(), "t2.pt");
  EXPECT_EQ(cfg.distill().teachers(2).name(), "third");
}

TEST(ConfigOverrides, ListValuesAndScalarListItems) {
  JobConfig cfg = withOverrides({"sparsity.include=[.*ffn.*, .*attn.*]", "sparsity.exclude[0]=.*bias"});
  ASSERT_EQ(cfg.sparsity().include_size(), 2);
  EXPECT_EQ(cfg.sparsity().include(1), ".*attn.*");
  ASSERT_EQ(cfg.sparsity().exclude_size(), 1);
  EXPECT_EQ(cfg.sparsity().exclude(0), ".*bias");
}

TEST(ConfigOverrides, CreatesMissingSectionsAndWorksOnAnEmptyFile) {
  JobConfig cfg = withOverrides({"student.path=s.pt", "distill.teachers[0].path=t.pt"}, "");
  EXPECT_EQ(cfg.student().path(), "s.pt");
  ASSERT_EQ(cfg.distill().teachers_size(), 1);
  EXPECT_EQ(cfg.distill().teachers(0).name(), "teacher0");
}

TEST(ConfigOverrides, LaterOverridesWinAndEmptyValuesUnset) {
  JobConfig cfg = withOverrides({"training.batch_size=8", "training.batch_size=4", "data.eval="});
  EXPECT_EQ(cfg.training().batch_size(), 4u);
  EXPECT_EQ(cfg.data().eval(), "");
  EXPECT_EQ(withOverrides({"training.batch_size="}).training().batch_size(), 32u);  // back to the default
}

TEST(ConfigOverrides, UnknownPathsNameTheFieldPath) {
  EXPECT_EQ(overrideError("distill.teachers[0].pth=2"),
            "--set distill.teachers[0].pth=2: distill.teachers[0]: unknown field \"pth\" (known: name, path, "
            "weight, classes); did you mean \"path\"?");
  EXPECT_CONTAINS(overrideError("trainig.batch_size=1"),
                  "--set trainig.batch_size=1: top level: unknown field \"trainig\"");
  EXPECT_CONTAINS(overrideError("training.batchSize=1"), "training: unknown field \"batchSize\"");
}

TEST(ConfigOverrides, WrongValueTypesNameTheOverride) {
  EXPECT_EQ(overrideError("training.batch_size=abc"),
            "--set training.batch_size=abc: training.batch_size: expected an unsigned integer, got \"abc\"");
  EXPECT_CONTAINS(overrideError("distill.teachers[1].weight=heavy"),
                  "distill.teachers[1].weight: expected a number, got \"heavy\"");
  EXPECT_CONTAINS(overrideError("sparsity.include=x"), "sparsity.include: expected a list");
}

TEST(ConfigOverrides, MisusedIndicesAndSectionsAreErrors) {
  EXPECT_CONTAINS(overrideError("distill.teachers[5].path=x"),
                  "distill.teachers[5]: index out of range: the list has 2 items (index 2 appends one)");
  EXPECT_CONTAINS(overrideError("training[0].batch_size=1"), "training: is a section, not a list");
  EXPECT_CONTAINS(overrideError("training.batch_size.x=1"), "training.batch_size: is a uint32 value, not a section");
  EXPECT_CONTAINS(overrideError("distill.teachers.path=x"),
                  "distill.teachers: is a list; pick an item with distill.teachers[0]");
}

TEST(ConfigOverrides, MalformedAssignmentsAreErrors) {
  EXPECT_CONTAINS(overrideError("training.batch_size"), "--set training.batch_size: expected PATH=VALUE");
  EXPECT_CONTAINS(overrideError("training..batch_size=1"), "bad field path \"training..batch_size\"");
  EXPECT_CONTAINS(overrideError("distill.teachers[x].path=1"), "an index is a number in brackets");
}

TEST(ConfigOverrides, ConflictWithTheFileShapeIsReported) {
  // The file has a scalar where the path needs a section.
  std::string e = errorOf([] { withOverrides({"training.batch_size=1"}, "training: 5\n"); });
  EXPECT_CONTAINS(e, "--set training.batch_size=1: training: expected a map in the job file, got \"5\"");
}

TEST(ConfigOverrides, ApplyOverrideEditsTheTreeInPlace) {
  YAML::Node root = YAML::Load("name: old\n");
  applyOverride(root, "name=x");
  EXPECT_EQ(root["name"].as<std::string>(), "x");
  YAML::Node empty;
  applyOverride(empty, "training.epochs=3");
  EXPECT_EQ(empty["training"]["epochs"].as<int>(), 3);
}

}  // namespace
}  // namespace distill::config
