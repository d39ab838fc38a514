// The tokenizer.json reader on small hand-written files: the byte-level
// alphabet, merge order, ignore_merges, added tokens, the BOS template, NFC,
// SentencePiece-style whitespace (Prepend/Replace, Metaspace), byte fallback,
// and the errors for what is not implemented (tests/tokenizers/conformance.sh
// checks real files against Hugging Face tokenizers).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tests/unit/scratch_dir.h"
#include "text/byte_level.h"
#include "text/tokenizer.h"

namespace distill::text {
namespace {

using Json = nlohmann::json;

// A byte-level BPE over the letters a, b, c, space ("Ġ") and "é"'s bytes ("Ã", "©").
Json tinyTokenizer() {
  Json vocab = {{"a", 0}, {"b", 1}, {"c", 2}, {"Ġ", 3}, {"ab", 4}, {"abc", 5}, {"Ġa", 6}, {"bc", 7}, {"Ã", 8},
                {"©", 9}, {"Ã©", 10}, {"cab", 11}};
  return {{"model",
           {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"a b", "ab c", "Ġ a", "Ã ©", "b c"}}, {"ignore_merges", false}}},
          {"added_tokens", Json::array({{{"id", 20}, {"content", "<s>"}, {"special", true}},
                                        {{"id", 21}, {"content", "<pad>"}, {"special", true}, {"lstrip", true}}})},
          {"normalizer", nullptr},
          {"pre_tokenizer",
           {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"}, {"pattern", {{"Regex", " ?\\p{L}+|\\s+"}}}, {"behavior", "Isolated"}, {"invert", false}},
              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}}},
          {"post_processor",
           {{"type", "TemplateProcessing"},
            {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
            {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {20}}, {"tokens", {"<s>"}}}}}}}}};
}

std::unique_ptr<Tokenizer> load(const testing::ScratchDir& dir, const Json& j) {
  const std::string path = dir.path("tokenizer.json");
  std::ofstream(path) << j.dump();
  return Tokenizer::load(path);
}

std::string errorOf(const testing::ScratchDir& dir, const Json& j) {
  try {
    load(dir, j);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ByteLevel, PrintableBytesStandForThemselvesTheOthersAreShifted) {
  EXPECT_EQ(toByteLevel("ab"), "ab");
  EXPECT_EQ(toByteLevel(" "), "Ġ");        // 0x20 -> U+0120
  EXPECT_EQ(toByteLevel("\n"), "Ċ");       // 0x0A -> U+010A
  EXPECT_EQ(toByteLevel("é"), "Ã©");       // 0xC3 0xA9 stand for themselves
}

TEST(HfTokenizer, MergesApplyInRankOrder) {
  testing::ScratchDir dir;
  const auto t = load(dir, tinyTokenizer());
  EXPECT_EQ(t->encode("abc", false), (std::vector<int64_t>{5}));     // a b -> ab, ab c -> abc
  EXPECT_EQ(t->encode("cab", false), (std::vector<int64_t>{2, 4}));  // "cab" is in the vocab, but no merge makes it
  EXPECT_EQ(t->encode("bca", false), (std::vector<int64_t>{7, 0}));  // b c ranks below nothing else here
  EXPECT_EQ(t->encode("a abc", false), (std::vector<int64_t>{0, 3, 5}));  // in "Ġabc", a b (rank 0) beats Ġ a (rank 2)
  EXPECT_EQ(t->encode(" a", false), (std::vector<int64_t>{6}));          // alone, Ġ a merges
  EXPECT_EQ(t->encode("é", false), (std::vector<int64_t>{10}));
  EXPECT_EQ(t->vocabSize(), 22);
  EXPECT_EQ(t->tokenId("<pad>"), 21);
}

TEST(HfTokenizer, IgnoreMergesTakesWholeWordsFromTheVocabulary) {
  testing::ScratchDir dir;
  Json j = tinyTokenizer();
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(load(dir, j)->encode("cab", false), (std::vector<int64_t>{11}));
}

TEST(HfTokenizer, AddedTokensSplitFirstAndTheTemplateAddsTheBos) {
  testing::ScratchDir dir;
  const auto t = load(dir, tinyTokenizer());
  EXPECT_EQ(t->encode("ab<s>c", false), (std::vector<int64_t>{4, 20, 2}));
  EXPECT_EQ(t->encode("ab  <pad>c", false), (std::vector<int64_t>{4, 21, 2}));  // lstrip takes the spaces
  EXPECT_EQ(t->encode("abc", true), (std::vector<int64_t>{20, 5}));
}

TEST(HfTokenizer, NfcMakesComposedAndDecomposedFormsEqual) {
  testing::ScratchDir dir;
  Json j = tinyTokenizer();
  j["normalizer"] = {{"type", "NFC"}};
  const auto t = load(dir, j);
  EXPECT_EQ(t->encode("e\xCC\x81", false), t->encode("\xC3\xA9", false));  // e + combining acute == é
  EXPECT_EQ(t->encode("\xC3\xA9", false), (std::vector<int64_t>{10}));
}

TEST(HfTokenizer, WhatIsNotImplementedIsRefusedNamingTheField) {
  testing::ScratchDir dir;
  Json j = tinyTokenizer();
  j["model"]["type"] = "WordPiece";
  EXPECT_NE(errorOf(dir, j).find("tokenizer.json: model.type is \"WordPiece\"; only BPE"), std::string::npos);
  j = tinyTokenizer();
  j["pre_tokenizer"] = {{"type", "Whitespace"}};
  EXPECT_NE(errorOf(dir, j).find("pre_tokenizer.type is \"Whitespace\""), std::string::npos);
  j = tinyTokenizer();
  j["pre_tokenizer"] = {{"type", "Metaspace"}, {"prepend_scheme", "sometimes"}};
  EXPECT_NE(errorOf(dir, j).find("pre_tokenizer.prepend_scheme is \"sometimes\""), std::string::npos);
  j = tinyTokenizer();
  j["normalizer"] = {{"type", "Lowercase"}};
  EXPECT_NE(errorOf(dir, j).find("normalizer.type is \"Lowercase\""), std::string::npos);
  j = tinyTokenizer();
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  EXPECT_NE(errorOf(dir, j).find("does not compile"), std::string::npos);
  j = tinyTokenizer();
  j["pre_tokenizer"] = nullptr;  // no ByteLevel, no byte_fallback, no unk_token: some text has no spelling
  EXPECT_NE(errorOf(dir, j).find("cannot spell every text"), std::string::npos);
  j = tinyTokenizer();
  j["model"]["unk_token"] = "<nope>";
  EXPECT_NE(errorOf(dir, j).find("tokenizer.json: model: tokenizer: unk_token \"<nope>\" is not in the vocabulary"),
            std::string::npos) << errorOf(dir, j);
  j = tinyTokenizer();
  j["added_tokens"][0].erase("content");
  EXPECT_NE(errorOf(dir, j).find("tokenizer.json: added_tokens: [json.exception"), std::string::npos) << errorOf(dir, j);
  for (const Json& id : {Json(1.7e33), Json(-1), Json(2.5), Json(uint64_t{1} << 40)}) {  // found by fuzzing (UB before)
    j = tinyTokenizer();
    j["model"]["vocab"]["a"] = id;
    EXPECT_NE(errorOf(dir, j).find("model.vocab[\"a\"]: token id " + id.dump() + " is not an integer in [0, 2147483647]"),
              std::string::npos) << errorOf(dir, j);
  }
  std::ofstream(dir.path("broken.json")) << "{\"model\": ";
  try {
    Tokenizer::load(dir.path("broken.json"));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("broken.json: not valid JSON"), std::string::npos) << e.what();
  }
}

// A SentencePiece-style BPE (Llama 2): "▁" marks word starts, byte tokens
// spell what the vocabulary lacks.
Json sentencePieceStyle() {
  Json vocab = {{"<unk>", 0}, {"<s>", 1}, {"<0xC3>", 2}, {"<0xA9>", 3}, {"▁", 4}, {"a", 5}, {"b", 6}, {"▁a", 7},
                {"ab", 8}, {"▁ab", 9}};
  return {{"model",
           {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"▁ a", "a b", "▁a b"}}, {"byte_fallback", true},
            {"unk_token", "<unk>"}, {"fuse_unk", true}}},
          {"added_tokens", Json::array({{{"id", 1}, {"content", "<s>"}, {"special", true}}})},
          {"normalizer",
           {{"type", "Sequence"},
            {"normalizers",
             {{{"type", "Prepend"}, {"prepend", "▁"}},
              {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}}}}},
          {"pre_tokenizer", nullptr}};
}

TEST(HfTokenizer, PrependAndReplaceMarkWordStartsAndBytesSpellTheRest) {
  testing::ScratchDir dir;
  const auto t = load(dir, sentencePieceStyle());
  EXPECT_EQ(t->encode("ab a", false), (std::vector<int64_t>{9, 7}));          // "▁ab▁a"
  EXPECT_EQ(t->encode("é", false), (std::vector<int64_t>{4, 2, 3}));          // "▁" then é's two bytes
  EXPECT_EQ(t->encode("ab<s>ab", false), (std::vector<int64_t>{9, 1, 9}));    // each stretch gets its "▁"
  Json j = sentencePieceStyle();
  j["model"]["byte_fallback"] = false;  // no bytes: the unknown "é" and "x" are one fused <unk>
  EXPECT_EQ(load(dir, j)->encode("aéx", false), (std::vector<int64_t>{7, 0}));
  j["model"]["fuse_unk"] = false;
  EXPECT_EQ(load(dir, j)->encode("aéx", false), (std::vector<int64_t>{7, 0, 0}));
}

TEST(HfTokenizer, MetaspacePrependsAtTheStartOnlyWithSchemeFirstAndSplitsBeforeEachMark) {
  testing::ScratchDir dir;
  Json j = sentencePieceStyle();
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", false}};
  auto t = load(dir, j);
  EXPECT_EQ(t->encode("ab<s>ab", false), (std::vector<int64_t>{9, 1, 8}));  // no "▁" after the added token
  j["pre_tokenizer"]["prepend_scheme"] = "always";
  EXPECT_EQ(load(dir, j)->encode("ab<s>ab", false), (std::vector<int64_t>{9, 1, 9}));
  j["pre_tokenizer"]["prepend_scheme"] = "never";
  EXPECT_EQ(load(dir, j)->encode("ab ab", false), (std::vector<int64_t>{8, 9}));
  // Split before each "▁" or not, the same ids: no merge of a SentencePiece vocabulary crosses a "▁".
  j["pre_tokenizer"]["prepend_scheme"] = "always";
  EXPECT_EQ(load(dir, j)->encode("a  ab", false), (std::vector<int64_t>{7, 4, 9}));
  j["pre_tokenizer"]["split"] = true;
  EXPECT_EQ(load(dir, j)->encode("a  ab", false), (std::vector<int64_t>{7, 4, 9}));
}

TEST(HfTokenizer, InvalidUtf8IsAnErrorNotACrash) {
  testing::ScratchDir dir;
  const auto t = load(dir, tinyTokenizer());
  EXPECT_THROW(t->encode("ab\xFF\xFE", false), Error);
  Json j = tinyTokenizer();
  j["normalizer"] = {{"type", "NFC"}};  // ICU would replace the bytes silently: the check comes first
  EXPECT_THROW(load(dir, j)->encode("ab\xC3", false), Error);
}

TEST(HfTokenizer, EmptyAddedTokensAreIgnoredAndLongWordsStayFast) {
  testing::ScratchDir dir;
  Json j = tinyTokenizer();
  j["added_tokens"].push_back({{"id", 30}, {"content", ""}, {"special", false}});
  const auto t = load(dir, j);
  EXPECT_EQ(t->encode("ab", false), (std::vector<int64_t>{4}));
  const std::string run(20000, 'a');  // one word of 20000 letters: each merge updates only its neighbours
  EXPECT_EQ(t->encode(run, false).size(), 20000u);
}

}  // namespace
}  // namespace distill::text
