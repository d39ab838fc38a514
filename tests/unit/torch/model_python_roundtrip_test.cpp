// TorchScript files must cross between Python and C++ both ways: exported
// students are loaded with torch.jit.load, and users bring teachers scripted
// in PyTorch. Runs the scripts in tests/unit/torch/python/ with /usr/bin/python3.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "trainer/model/builtin.h"
#include "trainer/model/model_io.h"

namespace distill::model {
namespace {

namespace fs = std::filesystem;

const char* kPython = "/usr/bin/python3";
constexpr int kNoTorch = 77;  // exit status of our scripts when Python has no torch

class ModelPythonRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("distill-model-py-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Runs tests/unit/torch/python/<script> with `args`; returns its exit status
  // and keeps its output in log_.
  int runPython(const std::string& script, const std::vector<std::string>& args) {
    std::string command = std::string(kPython) + " '" + DISTILL_SOURCE_DIR +
                          "/tests/unit/torch/python/" + script + "'";
    for (const auto& a : args) command += " '" + a + "'";
    command += " > '" + path("python.log") + "' 2>&1";
    const int status = std::system(command.c_str());
    std::ifstream log(path("python.log"));
    log_ = command + "\n" + std::string((std::istreambuf_iterator<char>(log)), {});
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // Saves `m`, has Python load and run it, and compares its logits with ours.
  void expectPythonAgrees(torch::jit::Module m, const std::string& arch) {
    m.save(path("model.pt"));
    const int rc = runPython("check_builtin_model.py", {path("model.pt"), arch, path("logits.txt")});
    ASSERT_NE(rc, kNoTorch) << kPython << " cannot import torch: run launch/setup.sh (Debian package python3-torch)";
    ASSERT_EQ(rc, 0) << log_;

    std::ifstream in(path("logits.txt"));
    std::vector<float> values;
    for (double v; in >> v;) values.push_back(static_cast<float>(v));
    auto python_logits = torch::tensor(values);

    m.eval();
    auto ids = torch::tensor({1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0}, torch::kInt64).view({2, 6});
    auto mask = torch::tensor({1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, torch::kInt64).view({2, 6});
    auto ours = runModel(m, ids, mask, arch).logits.flatten();
    ASSERT_EQ(python_logits.numel(), ours.numel()) << log_;
    EXPECT_TRUE(torch::allclose(python_logits, ours, 1e-5, 1e-5)) << log_;
  }

  fs::path dir_;
  std::string log_;
};

TEST_F(ModelPythonRoundTrip, EncoderClassifierLoadsAndAgreesInPython) {
  expectPythonAgrees(buildEncoderClassifier(TransformerSize{}, 3, 17), "encoder-classifier");
}

TEST_F(ModelPythonRoundTrip, DecoderLMLoadsAndAgreesInPython) {
  expectPythonAgrees(buildDecoderLM(TransformerSize{}, 17), "decoder-lm");
}

TEST_F(ModelPythonRoundTrip, ModelScriptedInPythonRunsUnderTheContract) {
  const int rc = runPython("write_custom_model.py", {path("custom.pt")});
  ASSERT_NE(rc, kNoTorch) << kPython << " cannot import torch: run launch/setup.sh (Debian package python3-torch)";
  ASSERT_EQ(rc, 0) << log_;
  auto m = loadModel(path("custom.pt"));
  auto ids = torch::randint(0, 50, {4, 9}, torch::kInt64);
  auto out = runModel(m, ids, torch::ones_like(ids), "custom teacher");
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(out.hidden_states.sizes(), (std::vector<int64_t>{1, 4, 9, 16}));
  EXPECT_FALSE(out.attentions.defined());
  EXPECT_EQ(outputClasses(m, 9), 3);
  std::vector<std::string> names;
  for (const auto& p : namedParameters(m)) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"model.embed.weight", "model.head.weight",
                                             "model.head.bias"}));
}

}  // namespace
}  // namespace distill::model
