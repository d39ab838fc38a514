// prepare-data --text on a tiny byte-level tokenizer (one token per letter,
// no merges; "<|endoftext|>" is id 9): packing, one document per sample,
// classification, --max-tokens, and errors that name the file and line.
#include "trainer/data/prepare_text.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "../scratch_dir.h"
#include "common/error.h"
#include "trainer/data/dataset.h"

namespace distill::data {
namespace {

using distill::testing::ScratchDir;

// a=0 b=1 c=2 d=3 e=4 Ġ=5; <|endoftext|>=9.
std::string tokenizerFile(const ScratchDir& dir) {
  const nlohmann::json j = {
      {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"c", 2}, {"d", 3}, {"e", 4}, {"Ġ", 5}}}, {"merges", nlohmann::json::array()}}},
      {"added_tokens", {{{"id", 9}, {"content", "<|endoftext|>"}, {"special", true}}}},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}}};
  std::ofstream(dir.path("tokenizer.json")) << j.dump();
  return dir.path("tokenizer.json");
}

std::string corpus(const ScratchDir& dir, const std::string& text) {
  std::ofstream(dir.path("corpus.jsonl")) << text;
  return dir.path("corpus.jsonl");
}

torch::Tensor ids(std::initializer_list<std::initializer_list<int64_t>> rows) {
  std::vector<torch::Tensor> out;
  for (const auto& r : rows) out.push_back(torch::tensor(std::vector<int64_t>(r), torch::kInt64));
  return torch::stack(out);
}

TEST(PrepareText, PackedDocumentsAreJoinedByEndOfTextAndLabelsAreTheNextToken) {
  ScratchDir dir;
  TextPrepareOptions o;
  o.tokenizer = tokenizerFile(dir);
  o.seq_len = 3;
  o.threads = 2;
  // Stream: a b EOS c d e EOS d  ->  samples [a b EOS], [c d e], [EOS d] (padded).
  const auto m = prepareFromText(corpus(dir, "{\"text\": \"ab\"}\n\n{\"text\": \"cde\"}\n{\"text\": \"d\"}\n"),
                                 dir.path("out"), o);
  EXPECT_EQ(m.task, kTaskLanguageModeling);
  EXPECT_EQ(m.vocab_size, 10);
  ASSERT_EQ(m.num_samples, 3u);
  const Batch b = ShardedDataset::open(dir.path("out")).gather({0, 1, 2});
  EXPECT_TRUE(torch::equal(b.input_ids, ids({{0, 1, 9}, {2, 3, 4}, {9, 3, 0}})));
  EXPECT_TRUE(torch::equal(b.labels, ids({{1, 9, 2}, {3, 4, 9}, {3, 9, -100}})));
  EXPECT_TRUE(torch::equal(b.attention_mask, ids({{1, 1, 1}, {1, 1, 1}, {1, 1, 0}})));
}

TEST(PrepareText, WithoutPackingEachDocumentIsOneSample) {
  ScratchDir dir;
  TextPrepareOptions o;
  o.tokenizer = tokenizerFile(dir);
  o.seq_len = 4;
  o.packing = false;
  prepareFromText(corpus(dir, "{\"text\": \"ab\"}\n{\"text\": \"abcdeab\"}\n"), dir.path("out"), o);
  const Batch b = ShardedDataset::open(dir.path("out")).gather({0, 1});
  EXPECT_TRUE(torch::equal(b.input_ids, ids({{0, 1, 0, 0}, {0, 1, 2, 3}})));  // EOS ends "ab": a label only
  EXPECT_TRUE(torch::equal(b.labels, ids({{1, 9, -100, -100}, {1, 2, 3, 4}})));
}

TEST(PrepareText, ALongDocumentPacksIntoConsecutiveSamples) {
  ScratchDir dir;
  TextPrepareOptions o;
  o.tokenizer = tokenizerFile(dir);
  o.seq_len = 4;
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "abcde"[i % 5];  // one word: the tokenizer has no merges, 1 id a letter
  const auto m = prepareFromText(corpus(dir, "{\"text\": \"" + text + "\"}\n"), dir.path("out"), o);
  ASSERT_EQ(m.num_samples, 250u);  // 1001 tokens with EOS: 250 samples of 4 inputs, their labels reach token 1000
  const Batch b = ShardedDataset::open(dir.path("out")).gather({0, 1, 249});
  EXPECT_TRUE(torch::equal(b.input_ids, ids({{0, 1, 2, 3}, {4, 0, 1, 2}, {1, 2, 3, 4}})));  // 249: tokens 996..999
  EXPECT_TRUE(torch::equal(b.labels, ids({{1, 2, 3, 4}, {0, 1, 2, 3}, {2, 3, 4, 9}})));
}

TEST(PrepareText, MaxTokensStopsTheStream) {
  ScratchDir dir;
  TextPrepareOptions o;
  o.tokenizer = tokenizerFile(dir);
  o.seq_len = 2;
  o.max_tokens = 5;  // a b c EOS d | (e EOS never read)
  const auto m = prepareFromText(corpus(dir, "{\"text\": \"abc\"}\n{\"text\": \"de\"}\n{\"text\": \"e\"}\n"),
                                 dir.path("out"), o);
  ASSERT_EQ(m.num_samples, 2u);
  const Batch b = ShardedDataset::open(dir.path("out")).gather({0, 1});
  EXPECT_TRUE(torch::equal(b.input_ids, ids({{0, 1}, {2, 9}})));
  EXPECT_TRUE(torch::equal(b.labels, ids({{1, 2}, {9, 3}})));
}

TEST(PrepareText, ClassificationTakesTheLabelField) {
  ScratchDir dir;
  TextPrepareOptions o;
  o.tokenizer = tokenizerFile(dir);
  o.seq_len = 2;
  o.label_field = "label";
  const auto m = prepareFromText(corpus(dir, "{\"text\": \"abc\", \"label\": 2}\n{\"text\": \"e\", \"label\": 0}\n"),
                                 dir.path("out"), o);
  EXPECT_EQ(m.task, kTaskClassification);
  EXPECT_EQ(m.num_classes, 3);
  const Batch b = ShardedDataset::open(dir.path("out")).gather({0, 1});
  EXPECT_TRUE(torch::equal(b.input_ids, ids({{0, 1}, {4, 0}})));
  EXPECT_TRUE(torch::equal(b.labels, torch::tensor({2, 0}, torch::kInt64)));
}

std::string errorOf(const ScratchDir& dir, const std::string& text, TextPrepareOptions o) {
  try {
    prepareFromText(corpus(dir, text), dir.path("out"), o);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(PrepareText, BadLinesNameFileAndLineAndLeaveNoDataset) {
  ScratchDir dir;
  TextPrepareOptions o;
  o.tokenizer = tokenizerFile(dir);
  EXPECT_NE(errorOf(dir, "{\"text\": \"ab\"}\nnot json\n", o).find("corpus.jsonl:2: not valid JSON"), std::string::npos);
  EXPECT_NE(errorOf(dir, "{\"text\": \"ab\"}\n\n{\"body\": \"ab\"}\n", o).find("corpus.jsonl:3: field \"text\" is missing"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.path("out/dataset.json")));
  o.label_field = "label";
  EXPECT_NE(errorOf(dir, "{\"text\": \"ab\", \"label\": \"x\"}\n", o).find("corpus.jsonl:1: field \"label\""),
            std::string::npos);
  o.max_tokens = 10;
  EXPECT_NE(errorOf(dir, "{\"text\": \"ab\", \"label\": 1}\n", o).find("--max-tokens bounds a language-modeling"),
            std::string::npos);
  o.max_tokens = 0;
  o.label_field.clear();
  o.eos_token = "</s>";
  EXPECT_NE(errorOf(dir, "{\"text\": \"ab\"}\n", o).find("--eos-token \"</s>\" is not in the vocabulary"),
            std::string::npos);
}

}  // namespace
}  // namespace distill::data
