#include "trainer/data/prepare_text.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/log.h"
#include "text/tokenizer.h"
#include "trainer/data/shard_writer.h"

namespace distill::data {
namespace {

using Clock = std::chrono::steady_clock;

struct Document {
  uint64_t line = 0;
  std::vector<int64_t> ids;
  int64_t label = 0;
  std::exception_ptr error;
};

// The end-of-text token of the common tokenizer families, in order of preference.
int64_t endOfText(const text::Tokenizer& t, const std::string& wanted, const std::string& path) {
  if (!wanted.empty()) {
    const auto id = t.tokenId(wanted);
    DISTILL_CHECK(id.has_value(), path, ": --eos-token \"", wanted, "\" is not in the vocabulary");
    return *id;
  }
  for (const char* name : {"<|end_of_text|>", "<|endoftext|>", "</s>", "<|im_end|>", "<eos>"}) {
    if (const auto id = t.tokenId(name)) return *id;
  }
  DISTILL_FAIL(path, ": no end-of-text token found (<|end_of_text|>, <|endoftext|>, </s>, ...); name one with --eos-token");
}

void parseAndTokenize(const std::string& jsonl, const std::string& text, const TextPrepareOptions& o,
                      const text::Tokenizer& tokenizer, Document& doc) {
  try {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      DISTILL_FAIL(jsonl, ":", doc.line, ": not valid JSON (the file must hold one JSON object per line): ", e.what());
    }
    DISTILL_CHECK(j.is_object() && j.contains(o.text_field) && j.at(o.text_field).is_string(), jsonl, ":", doc.line,
                  ": field \"", o.text_field, "\" is missing or not a string (--text-field)");
    if (!o.label_field.empty()) {
      DISTILL_CHECK(j.contains(o.label_field) && j.at(o.label_field).is_number_integer() &&
                        j.at(o.label_field).get<int64_t>() >= 0,
                    jsonl, ":", doc.line, ": field \"", o.label_field,
                    "\" is missing or not a non-negative integer (--label-field)");
      doc.label = j.at(o.label_field).get<int64_t>();
    }
    try {
      doc.ids = tokenizer.encode(j.at(o.text_field).get<std::string>(), /*add_special_tokens=*/true);
    } catch (const Error& e) {
      DISTILL_FAIL(jsonl, ":", doc.line, ": ", e.what());
    }
  } catch (...) {
    doc.error = std::current_exception();
  }
}

// Cuts the packed token stream into samples of seq_len + 1 tokens that overlap by one.
class Packer {
 public:
  Packer(ShardWriter& out, int64_t seq_len) : out_(out), seq_len_(seq_len) {}
  void add(const std::vector<int64_t>& tokens) {
    stream_.insert(stream_.end(), tokens.begin(), tokens.end());
    while (static_cast<int64_t>(stream_.size() - head_) > seq_len_) {
      emit(seq_len_ + 1);
      head_ += seq_len_;
    }
    // Drop what was emitted, but not once per sample (a long document would be quadratic).
    if (head_ > stream_.size() / 2) {
      stream_.erase(stream_.begin(), stream_.begin() + static_cast<long>(head_));
      head_ = 0;
    }
  }
  void finish() {
    if (stream_.size() - head_ >= 2) emit(static_cast<int64_t>(stream_.size() - head_));
    stream_.clear();
    head_ = 0;
  }

 private:
  // A sample from the first `n` (<= seq_len + 1) tokens of the stream: inputs
  // are the first n - 1 tokens, labels the n - 1 that follow each.
  void emit(int64_t n) {
    std::vector<int32_t> ids(seq_len_, 0);
    std::vector<uint8_t> mask(seq_len_, 0);
    std::vector<int64_t> labels(seq_len_, -100);
    for (int64_t t = 0; t + 1 < n; ++t) {
      ids[t] = static_cast<int32_t>(stream_[head_ + t]);
      mask[t] = 1;
      labels[t] = stream_[head_ + t + 1];
    }
    out_.add(ids, mask, labels);
  }
  ShardWriter& out_;
  int64_t seq_len_;
  std::vector<int64_t> stream_;
  size_t head_ = 0;  // the next sample starts here
};

}  // namespace

DatasetManifest prepareFromText(const std::string& jsonl, const std::string& out_dir, const TextPrepareOptions& o) {
  DISTILL_CHECK(o.seq_len >= 2, "prepare-data: --seq-len must be at least 2, got ", o.seq_len);
  DISTILL_CHECK(!o.tokenizer.empty(), "prepare-data: --text needs --tokenizer FILE (the model's tokenizer.json)");
  const auto tokenizer = text::Tokenizer::load(o.tokenizer);
  const bool classification = !o.label_field.empty();
  DISTILL_CHECK(!(classification && o.max_tokens > 0),
                "prepare-data: --max-tokens bounds a language-modeling stream; with --label-field (classification) "
                "every document is one sample: leave it out");
  const int64_t eos = classification ? -1 : endOfText(*tokenizer, o.eos_token, o.tokenizer);
  std::ifstream in(jsonl);
  DISTILL_CHECK(in.good(), jsonl, ": cannot read the text file");

  ShardWriter out(out_dir, o.seq_len, /*per_token_labels=*/!classification, o.samples_per_shard);
  out.setMetadata("source", jsonl);
  out.setMetadata("tokenizer", o.tokenizer);
  Packer packer(out, o.seq_len);
  const int threads = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  int64_t max_label = -1;
  uint64_t tokens = 0, documents = 0, line_number = 0;
  const auto start = Clock::now();
  auto last_report = start;
  bool done = false;
  while (!done) {
    // A chunk of lines, tokenized by `threads` threads, consumed in file order.
    std::vector<std::string> lines;
    std::vector<Document> docs;
    std::string line;
    while (lines.size() < 256u * threads && std::getline(in, line)) {
      ++line_number;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines
      lines.push_back(std::move(line));
      docs.emplace_back().line = line_number;
    }
    if (lines.empty()) break;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (size_t i = t; i < lines.size(); i += threads) parseAndTokenize(jsonl, lines[i], o, *tokenizer, docs[i]);
      });
    }
    for (auto& th : pool) th.join();
    for (Document& doc : docs) {
      if (doc.error) std::rethrow_exception(doc.error);
      if (classification) {
        std::vector<int32_t> ids;
        std::vector<uint8_t> mask;
        padOrTruncate(doc.ids, o.seq_len, 0, &ids, &mask);
        out.add(ids, mask, {doc.label});
        max_label = std::max(max_label, doc.label);
      } else {
        doc.ids.push_back(eos);
        if (!o.packing) doc.ids.resize(std::min<size_t>(doc.ids.size(), o.seq_len + 1));  // what one sample holds
        if (o.max_tokens > 0 && tokens + doc.ids.size() >= o.max_tokens) {
          doc.ids.resize(o.max_tokens - tokens);
          done = true;
        }
        if (o.packing) {
          packer.add(doc.ids);
        } else {
          Packer single(out, o.seq_len);
          single.add(doc.ids);
          single.finish();
        }
      }
      tokens += doc.ids.size();
      ++documents;
      if (done) break;
    }
    if (Clock::now() - last_report > std::chrono::seconds(2)) {
      last_report = Clock::now();
      const double seconds = std::chrono::duration<double>(last_report - start).count();
      log::info("prepare-data: ", documents, " documents, ", tokens, " tokens (", static_cast<uint64_t>(tokens / seconds),
                " tokens/s)");
    }
  }
  packer.finish();
  DISTILL_CHECK(documents > 0, jsonl, ": no document (every line is blank)");
  if (classification) {
    DISTILL_CHECK(max_label >= 1, jsonl, ": every document has label ", max_label,
                  "; classification needs at least 2 classes");
    return out.finish(kTaskClassification, max_label + 1, tokenizer->vocabSize());
  }
  return out.finish(kTaskLanguageModeling, 0, tokenizer->vocabSize());
}

}  // namespace distill::data
