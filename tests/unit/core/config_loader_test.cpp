// YAML -> JobConfig: values, field-path errors, syntax errors, null handling.
#include "common/config_loader.h"

#include <gtest/gtest.h>

#include <fstream>

#include "../scratch_dir.h"
#include "common/error.h"

namespace distill::config {
namespace {

// The message of the distill::Error thrown by `f`, or "(no error)".
template <typename F>
std::string errorOf(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string parseError(const std::string& yaml) {
  return errorOf([&] { parseJobConfig(yaml, "job.yaml"); });
}

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "missing: " << (part) << "\nin: " << (text)

const char* kJob = R"(
name: demo
student:
  path: models/student.pt
data:
  train: data/train
training:
  batch_size: 16
  max_steps: 100
optimizer:
  lr: 1e-3
distill:
  teachers:
    - path: models/t0.pt
    - name: big
      path: models/t1.pt
      weight: 2.5
  combiner: weights
sparsity:
  enabled: true
  final_sparsity: 0.8
  include: [".*weight"]
)";

TEST(ConfigLoader, ParsesValuesOfEveryKind) {
  JobConfig cfg = parseJobConfig(kJob, "job.yaml");
  EXPECT_EQ(cfg.name(), "demo");
  EXPECT_EQ(cfg.student().path(), "models/student.pt");
  EXPECT_EQ(cfg.data().train(), "data/train");
  EXPECT_EQ(cfg.training().batch_size(), 16u);
  EXPECT_EQ(cfg.training().max_steps(), 100u);
  EXPECT_DOUBLE_EQ(cfg.optimizer().lr(), 1e-3);
  ASSERT_EQ(cfg.distill().teachers_size(), 2);
  EXPECT_EQ(cfg.distill().teachers(1).name(), "big");
  EXPECT_DOUBLE_EQ(cfg.distill().teachers(1).weight(), 2.5);
  EXPECT_EQ(cfg.distill().combiner(), "weights");
  EXPECT_TRUE(cfg.sparsity().enabled());
  EXPECT_DOUBLE_EQ(cfg.sparsity().final_sparsity(), 0.8);
  ASSERT_EQ(cfg.sparsity().include_size(), 1);
  EXPECT_EQ(cfg.sparsity().include(0), ".*weight");
}

TEST(ConfigLoader, ParsesTheDataSelectionFraction) {
  EXPECT_DOUBLE_EQ(parseJobConfig("training:\n  data_selection: {fraction: 0.3}\n", "job.yaml")
                       .training()
                       .data_selection()
                       .fraction(),
                   0.3);
  EXPECT_DOUBLE_EQ(parseJobConfig("name: a\n", "job.yaml").training().data_selection().fraction(), 0.0);
}

TEST(ConfigLoader, UnknownTopLevelFieldListsTheKnownOnes) {
  EXPECT_EQ(parseError("name: a\nnme: b\n"),
            "job.yaml: top level: unknown field \"nme\" (known: name, run_dir, seed, student, data, training, "
            "optimizer, distill, sparsity, checkpoint, metrics, runtime); did you mean \"name\"? (line 2)");
}

TEST(ConfigLoader, UnknownNestedFieldNamesTheSection) {
  std::string e = parseError("training:\n  batch_size: 4\n  epoch: 2\n");
  EXPECT_CONTAINS(e, "job.yaml: training: unknown field \"epoch\" (known: batch_size, epochs, max_steps, eval_every, "
                     "data_selection, gradient_accumulation)");
  EXPECT_CONTAINS(e, "did you mean \"epochs\"?");
  EXPECT_CONTAINS(e, "(line 3)");
}

TEST(ConfigLoader, UnknownFieldInsideAListNamesTheIndex) {
  std::string e = parseError("distill:\n  teachers:\n    - path: a.pt\n    - pth: b.pt\n");
  EXPECT_EQ(e, "job.yaml: distill.teachers[1]: unknown field \"pth\" (known: name, path, weight, classes); "
               "did you mean \"path\"? (line 4)");
}

TEST(ConfigLoader, CamelCaseNamesAreUnknownWithAHint) {
  std::string e = parseError("training:\n  batchSize: 4\n");
  EXPECT_CONTAINS(e, "training: unknown field \"batchSize\"");
  EXPECT_CONTAINS(e, "did you mean \"batch_size\"? (field names are snake_case)");
}

TEST(ConfigLoader, WrongScalarTypesNameTheField) {
  EXPECT_EQ(parseError("training:\n  batch_size: abc\n"),
            "job.yaml: training.batch_size: expected an unsigned integer, got \"abc\" (line 2)");
  EXPECT_CONTAINS(parseError("training:\n  batch_size: 32.5\n"), "training.batch_size: expected an unsigned integer");
  EXPECT_CONTAINS(parseError("training:\n  batch_size: \"32\"\n"),
                  "training.batch_size: expected an unsigned integer, got \"32\" (a quoted string)");
  EXPECT_CONTAINS(parseError("optimizer:\n  lr: fast\n"), "optimizer.lr: expected a number, got \"fast\"");
  EXPECT_CONTAINS(parseError("optimizer:\n  lr: .inf\n"), "optimizer.lr: expected a number");
  EXPECT_CONTAINS(parseError("sparsity:\n  enabled: maybe\n"), "sparsity.enabled: expected true or false, got \"maybe\"");
  EXPECT_CONTAINS(parseError("name: {a: 1}\n"), "job.yaml: name: expected a string, got a map");
  EXPECT_CONTAINS(parseError("student:\n  path: [a, b]\n"), "student.path: expected a string, got a list");
}

// Invalid UTF-8 in a value is named (it surfaced as a JSON library message).
TEST(ConfigLoader, InvalidUtf8InAValueNamesTheField) {
  EXPECT_EQ(parseError("name: ab\xff\xfe\n"), "job.yaml: name: not valid UTF-8 (byte 2 of the value) (line 1)");
  EXPECT_CONTAINS(parseError("student:\n  path: \"x\xe2\x82\"\n"), "student.path: not valid UTF-8 (byte 1");
  EXPECT_CONTAINS(parseError("name: \"\xed\xa0\x80\"\n"), "name: not valid UTF-8 (byte 0");  // a surrogate
  // Valid text of 2, 3 and 4 bytes per character is accepted.
  EXPECT_EQ(parseJobConfig("name: \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"\n", "job.yaml").name(),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST(ConfigLoader, NegativeAndTooLargeUnsignedValuesAreRejected) {
  EXPECT_CONTAINS(parseError("training:\n  epochs: -1\n"),
                  "training.epochs: expected an unsigned integer, got \"-1\" (negative values are not allowed here)");
  EXPECT_CONTAINS(parseError("training:\n  epochs: 4294967296\n"),
                  "training.epochs: value 4294967296 is out of range (0 to 4294967295)");
  EXPECT_EQ(parseJobConfig("seed: 18446744073709551615\n", "job.yaml").seed(), 18446744073709551615ull);
}

TEST(ConfigLoader, ListAndMapShapesAreChecked) {
  EXPECT_CONTAINS(parseError("distill:\n  teachers:\n    path: a.pt\n"), "distill.teachers: expected a list, got a map");
  EXPECT_CONTAINS(parseError("sparsity:\n  include: .*weight\n"),
                  "sparsity.include: expected a list, got \".*weight\" (write [.*weight] for a list of one)");
  EXPECT_CONTAINS(parseError("training: [1, 2]\n"), "job.yaml: training: expected a map with the fields batch_size, "
                                                     "epochs, max_steps, eval_every, data_selection, gradient_accumulation, got a list");
  EXPECT_CONTAINS(parseError("- a\n- b\n"), "job.yaml: top level: expected a map");
  EXPECT_CONTAINS(parseError("sparsity:\n  include: [a, [b]]\n"), "sparsity.include[1]: expected a string, got a list");
}

TEST(ConfigLoader, SyntaxErrorsGiveTheLine) {
  std::string e = parseError("name: a\ntraining:\n  batch_size: [1,\n  epochs: 2\n");
  EXPECT_CONTAINS(e, "job.yaml:");
  EXPECT_CONTAINS(e, "YAML syntax error");
  EXPECT_EQ(parseError("name: a\nstudent: b: c\n").rfind("job.yaml:2:", 0), 0u) << parseError("name: a\nstudent: b: c\n");
}

// yaml-cpp 0.7 loops forever, allocating, on these (found by tests/fuzz/config_yaml_fuzz.cpp).
TEST(ConfigLoader, InputsTheYamlParserWouldLoopOnAreSyntaxErrors) {
  for (const std::string& text : {std::string(","), std::string("name: a\n,\n"), std::string("\0,", 2)}) {
    const std::string e = parseError(text);
    EXPECT_CONTAINS(e, "job.yaml:");
    EXPECT_CONTAINS(e, "YAML syntax error");
  }
  EXPECT_CONTAINS(parseError(","), "does not finish on this input (a stray ','");
}

TEST(ConfigLoader, DuplicateFieldsAndSeveralDocumentsAreErrors) {
  EXPECT_CONTAINS(parseError("name: a\nname: b\n"), "top level: field \"name\" is given twice (line 2)");
  EXPECT_CONTAINS(parseError("name: a\n---\nname: b\n"), "job.yaml: holds 2 YAML documents");
}

TEST(ConfigLoader, EmptyValuesAndEmptyFilesLeaveFieldsUnset) {
  JobConfig cfg = parseJobConfig("seed: ~\ndata:\n  eval:\n", "job.yaml");
  EXPECT_EQ(cfg.seed(), 1234u);  // the default, since `~` means unset
  EXPECT_EQ(cfg.data().eval(), "");
  JobConfig empty = parseJobConfig("# nothing yet\n", "job.yaml");
  EXPECT_EQ(empty.training().batch_size(), 32u);
}

TEST(ConfigLoader, LoadsAFileAndNamesAMissingOne) {
  testing::ScratchDir dir;
  std::ofstream(dir.path("job.yaml")) << kJob;
  EXPECT_EQ(loadJobConfig(dir.path("job.yaml")).name(), "demo");
  EXPECT_EQ(loadJobConfig(dir.path("job.yaml"), {"name=other"}).name(), "other");
  std::string e = errorOf([&] { loadJobConfig(dir.path("missing.yaml")); });
  EXPECT_CONTAINS(e, dir.path("missing.yaml") + ": cannot read the job config");
  std::ofstream(dir.path("bad.yaml")) << "training:\n  batch_size: x\n";
  EXPECT_CONTAINS(errorOf([&] { loadJobConfig(dir.path("bad.yaml")); }),
                  dir.path("bad.yaml") + ": training.batch_size: expected an unsigned integer");
}

// A config of megabytes is a data file named by mistake: refused before parsing.
TEST(ConfigLoader, AFileOverOneMebibyteIsRefusedUnparsed) {
  testing::ScratchDir dir;
  std::ofstream(dir.path("big.yaml")) << kJob << "# " << std::string(kMaxConfigBytes, 'x') << "\n";
  EXPECT_CONTAINS(errorOf([&] { loadJobConfig(dir.path("big.yaml")); }),
                  dir.path("big.yaml") + ": " + std::to_string(kMaxConfigBytes + std::string(kJob).size() + 3) +
                      " bytes; a job config is at most 1048576 bytes (is it a data file?)");
  std::ofstream(dir.path("page.yaml")) << kJob << "# " << std::string(kMaxConfigBytes / 2, 'x') << "\n";
  EXPECT_EQ(loadJobConfig(dir.path("page.yaml")).name(), "demo");
}

}  // namespace
}  // namespace distill::config
