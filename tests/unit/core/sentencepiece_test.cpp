// A SentencePiece tokenizer.model through libsentencepiece (opened as a
// module): the library's pieces, BOS by default, special tokens written in
// the text, tokenizer_config.json beside the model, and the errors.
// tests/tokenizers/conformance.sh compares thousands of lines with spm_encode.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "tests/unit/scratch_dir.h"
#include "text/tokenizer.h"

namespace distill::text {
namespace {

// tests/fixtures/sentencepiece/make_fixture.sh: BPE, 500 pieces, byte fallback; <unk> 0, <s> 1, </s> 2.
const std::string kModel = std::string(DISTILL_SOURCE_DIR) + "/tests/fixtures/sentencepiece/tiny.model";

std::string errorOf(const std::string& path) {
  try {
    Tokenizer::load(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SentencePieceTokenizer, BosFirstThenTheLibrarysPieces) {
  const auto t = Tokenizer::load(kModel);
  EXPECT_EQ(t->vocabSize(), 500);
  EXPECT_EQ(t->tokenId("<s>"), 1);
  EXPECT_EQ(t->tokenId("</s>"), 2);
  EXPECT_FALSE(t->tokenId("no such piece").has_value());
  const auto plain = t->encode("the data", false);
  ASSERT_FALSE(plain.empty());
  EXPECT_NE(plain.front(), 1);
  auto with_bos = plain;
  with_bos.insert(with_bos.begin(), 1);
  EXPECT_EQ(t->encode("the data", true), with_bos);
  // A character the model never saw is spelled in byte pieces (<0xE6> ... = ids 3 + byte).
  const auto bytes = t->encode("日", false);
  ASSERT_GE(bytes.size(), 3u);
  EXPECT_EQ(std::vector<int64_t>(bytes.end() - 3, bytes.end()), (std::vector<int64_t>{3 + 0xE6, 3 + 0x97, 3 + 0xA5}));
}

TEST(SentencePieceTokenizer, SpecialTokensInTheTextAreTheirIds) {
  const auto t = Tokenizer::load(kModel);
  const auto a = t->encode("the", false), b = t->encode("data", false);
  std::vector<int64_t> want = a;
  want.push_back(2);
  want.insert(want.end(), b.begin(), b.end());
  EXPECT_EQ(t->encode("the</s>data", false), want);
}

TEST(SentencePieceTokenizer, TokenizerConfigBesideTheModelSetsBosAndEos) {
  testing::ScratchDir dir;
  std::filesystem::copy_file(kModel, dir.path("tokenizer.model"));
  std::ofstream(dir.path("tokenizer_config.json")) << R"({"add_bos_token": false, "add_eos_token": true})";
  const auto t = Tokenizer::load(dir.path("tokenizer.model"));
  auto want = t->encode("the", false);
  want.push_back(2);
  EXPECT_EQ(t->encode("the", true), want);
  std::ofstream(dir.path("tokenizer_config.json")) << R"({"add_bos_token": "yes"})";
  EXPECT_NE(errorOf(dir.path("tokenizer.model")).find("tokenizer_config.json: add_bos_token must be true or false"),
            std::string::npos);
}

TEST(SentencePieceTokenizer, NotAModelIsAnErrorNamingTheFile) {
  testing::ScratchDir dir;
  std::ofstream(dir.path("tokenizer.model")) << "this is not a protobuf";
  const std::string error = errorOf(dir.path("tokenizer.model"));
  EXPECT_NE(error.find("tokenizer.model: not a SentencePiece model"), std::string::npos) << error;
  std::ofstream(dir.path("vocab.txt")) << "a\nb\n";
  EXPECT_NE(errorOf(dir.path("vocab.txt")).find("vocab.txt: not a tokenizer file"), std::string::npos);
}

}  // namespace
}  // namespace distill::text
