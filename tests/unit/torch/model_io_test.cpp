// Tests of trainer/model/model_io.h: loading TorchScript files, checking the
// output contract with errors that name the model, parameter listing, and
// output-size probing.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "../expect_error.h"
#include "trainer/model/builtin.h"
#include "trainer/model/model_io.h"

namespace distill::model {
namespace {

using distill::testing::expectError;

namespace fs = std::filesystem;

class ModelIO : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("distill-model-io-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

// A module compiled from `source`, which defines its methods.
torch::jit::Module scripted(const std::string& source) {
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  torch::jit::Module m("__torch__.distill_test.Custom", cu, /*shouldMangle=*/true);
  m.define(source);
  return m;
}

torch::Tensor ids(int64_t batch, int64_t seq) {
  return torch::arange(batch * seq, torch::kInt64).remainder(50).view({batch, seq});
}

TEST_F(ModelIO, LoadMissingFileNamesThePath) {
  const auto missing = path("no-such-model.pt");
  expectError([&] { loadModel(missing); }, {missing, "does not exist"});
}

TEST_F(ModelIO, LoadNonTorchScriptNamesThePath) {
  const auto text = path("notes.txt");
  std::ofstream(text) << "this is not a model\n";
  expectError([&] { loadModel(text); }, {text, "not a TorchScript"});
}

TEST_F(ModelIO, LoadModuleWithoutForwardNamesThePath) {
  const auto file = path("no-forward.pt");
  scripted("def predict(self, x: Tensor) -> Tensor:\n    return x\n").save(file);
  expectError([&] { loadModel(file); }, {file, "no forward"});
}

TEST_F(ModelIO, SavedBuiltinLoadsAndComputesTheSame) {
  const auto file = path("encoder.pt");
  auto original = buildEncoderClassifier(TransformerSize{}, 3, 1);
  original.eval();
  original.save(file);
  auto loaded = loadModel(file);
  loaded.eval();
  auto x = ids(2, 12);
  auto mask = torch::ones_like(x);
  EXPECT_TRUE(torch::equal(runModel(original, x, mask, "original").logits,
                           runModel(loaded, x, mask, "loaded").logits));
  EXPECT_EQ(loaded.attr("distill_arch").toStringRef(), "encoder-classifier");
}

TEST_F(ModelIO, ForwardReturningATensorNamesTheModel) {
  auto m = scripted(
      "def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:\n"
      "    return input_ids.float()\n");
  expectError([&] { runModel(m, ids(2, 4), torch::ones({2, 4}, torch::kInt64), "teacher-7"); },
                        {"teacher-7", "Dict[str, Tensor]", "Tensor"});
}

TEST_F(ModelIO, DictWithoutLogitsNamesTheModel) {
  auto m = scripted(
      "def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:\n"
      "    return {'scores': input_ids.float()}\n");
  expectError([&] { runModel(m, ids(2, 4), torch::ones({2, 4}, torch::kInt64), "student"); },
                        {"student", "\"logits\""});
}

TEST_F(ModelIO, LogitsWithWrongBatchNameTheModel) {
  auto m = scripted(
      "def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:\n"
      "    return {'logits': torch.zeros(1, 2)}\n");
  expectError([&] { runModel(m, ids(3, 4), torch::ones({3, 4}, torch::kInt64), "student"); },
                        {"student", "B=3", "[1, 2]"});
}

TEST_F(ModelIO, LanguageModelLogitsMustCoverEveryPosition) {
  auto m = scripted(
      "def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:\n"
      "    return {'logits': torch.zeros(input_ids.size(0), 2, 9)}\n");
  expectError([&] { runModel(m, ids(3, 4), torch::ones({3, 4}, torch::kInt64), "lm"); },
                        {"lm", "T=4"});
}

TEST_F(ModelIO, IntegerLogitsNameTheModel) {
  auto m = scripted(
      "def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:\n"
      "    return {'logits': input_ids}\n");
  expectError([&] { runModel(m, ids(2, 4), torch::ones({2, 4}, torch::kInt64), "student"); },
                        {"student", "floating point"});
}

TEST_F(ModelIO, MisshapenHiddenStatesAndAttentionsNameTheModel) {
  auto hidden = scripted(
      "def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:\n"
      "    return {'logits': torch.zeros(2, 3), 'hidden_states': torch.zeros(2, 4, 8)}\n");
  expectError(
      [&] { runModel(hidden, ids(2, 4), torch::ones({2, 4}, torch::kInt64), "student"); },
      {"student", "hidden_states", "[L+1, B, T, D]"});
  auto attn = scripted(
      "def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:\n"
      "    return {'logits': torch.zeros(2, 3), 'attentions': torch.zeros(1, 2, 1, 4, 3)}\n");
  expectError(
      [&] { runModel(attn, ids(2, 4), torch::ones({2, 4}, torch::kInt64), "student"); },
      {"student", "attentions", "[L, B, H, T, T]"});
}

TEST_F(ModelIO, OptionalOutputsAreUndefinedWhenAbsent) {
  auto m = scripted(
      "def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:\n"
      "    return {'logits': torch.ones(input_ids.size(0), 3), 'extra': torch.zeros(1)}\n");
  auto out = runModel(m, ids(2, 4), torch::ones({2, 4}, torch::kInt64), "student");
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_FALSE(out.hidden_states.defined());
  EXPECT_FALSE(out.attentions.defined());
}

TEST_F(ModelIO, ExceptionInsideForwardNamesTheModel) {
  auto m = scripted(
      "def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:\n"
      "    assert input_ids.size(0) < 0, 'tokenizer mismatch'\n"
      "    return {'logits': input_ids.float()}\n");
  expectError([&] { runModel(m, ids(2, 4), torch::ones({2, 4}, torch::kInt64), "teacher-1"); },
                        {"teacher-1", "forward failed", "tokenizer mismatch"});
}

TEST_F(ModelIO, WrongInputTypesNameTheModel) {
  auto m = buildEncoderClassifier(TransformerSize{}, 2, 1);
  auto x = ids(2, 4);
  expectError([&] { runModel(m, x.to(torch::kInt32), torch::ones_like(x), "student"); },
                        {"student", "input_ids"});
  expectError([&] { runModel(m, x, torch::ones({2, 5}, torch::kInt64), "student"); },
                        {"student", "attention_mask"});
}

TEST_F(ModelIO, NamedParametersShareStorageInModuleOrder) {
  auto m = buildDecoderLM(TransformerSize{}, 3);
  auto params = namedParameters(m);
  auto reference = m.named_parameters(/*recurse=*/true);
  ASSERT_EQ(params.size(), reference.size());
  size_t i = 0;
  for (const auto& p : reference) {
    EXPECT_EQ(params[i].name, p.name);
    EXPECT_TRUE(params[i].tensor.is_same(p.value)) << p.name;
    ++i;
  }
  // 2 embeddings + 2 blocks x 12 + final norm 2 + lm head 1.
  EXPECT_EQ(params.size(), 2u + 24u + 2u + 1u);
  {
    torch::NoGradGuard no_grad;
    params[0].tensor.zero_();
  }
  EXPECT_EQ(m.attr("embed_tokens").toTensor().abs().sum().item<float>(), 0.0f);
}

TEST_F(ModelIO, NamedParametersOfAParameterlessModuleIsEmpty) {
  auto m = scripted(
      "def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:\n"
      "    return {'logits': torch.zeros(input_ids.size(0), 7)}\n");
  EXPECT_TRUE(namedParameters(m).empty());
}

TEST_F(ModelIO, OutputClassesProbesTheLastLogitsDimension) {
  auto encoder = buildEncoderClassifier(TransformerSize{}, 6, 1);
  EXPECT_EQ(outputClasses(encoder, 8), 6);
  TransformerSize size;
  size.vocab_size = 100;
  auto decoder = buildDecoderLM(size, 1);
  EXPECT_EQ(outputClasses(decoder, 8), 100);
  auto custom = scripted(
      "def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Dict[str, Tensor]:\n"
      "    return {'logits': torch.zeros(input_ids.size(0), 7)}\n");
  EXPECT_EQ(outputClasses(custom, 4), 7);
  expectError([&] { outputClasses(custom, 0, "teacher-2"); }, {"teacher-2", "seq_len"});
}

}  // namespace
}  // namespace distill::model
