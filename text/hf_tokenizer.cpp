#include "text/hf_tokenizer.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "text/bpe.h"
#include "text/normalizer.h"
#include "text/pre_tokenizer.h"
#include "text/token_match.h"

namespace distill::text {
namespace {

using Json = nlohmann::json;

std::string typeOf(const Json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("type") || !j.at("type").is_string()) {
    DISTILL_FAIL(where, ": expected an object with a \"type\"");
  }
  return j.at("type").get<std::string>();
}

bool flag(const Json& j, const char* key, bool fallback) {
  return j.contains(key) && j.at(key).is_boolean() ? j.at(key).get<bool>() : fallback;
}

// A token id: an integer in [0, 2^31) (vocabularies are far smaller; a float
// or a huge value would overflow the conversion, found by fuzzing).
int64_t tokenIdOf(const Json& id, const std::string& where) {
  constexpr int64_t kMaxId = (int64_t{1} << 31) - 1;
  const bool ok = id.is_number_unsigned() ? id.get<uint64_t>() <= uint64_t(kMaxId)
                                          : id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() <= kMaxId;
  DISTILL_CHECK(ok, where, ": token id ", id.dump(), " is not an integer in [0, ", kMaxId, "]");
  return id.get<int64_t>();
}

struct AddedToken {
  std::string content;
  int64_t id;
  bool lstrip, rstrip;
};

bool validUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    const size_t n = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

class HfTokenizer final : public Tokenizer {
 public:
  explicit HfTokenizer(const std::string& path) {
    std::ifstream in(path);
    DISTILL_CHECK(in.good(), path, ": cannot read the tokenizer file");
    Json j;
    try {
      j = Json::parse(in);
    } catch (const Json::exception& e) {
      DISTILL_FAIL(path, ": not valid JSON: ", e.what());
    }
    DISTILL_CHECK(j.is_object() && j.contains("model"), path, ": no \"model\": not a Hugging Face tokenizer.json");
    std::string section = "model";
    try {  // a missing key or a wrong type deep inside a section: name the file and the section
      readModel(j.at("model"), path + ": model");
      section = "added_tokens";
      readAdded(j.value("added_tokens", Json::array()), path + ": added_tokens");
      section = "normalizer";
      normalizers_ = readNormalizers(j.value("normalizer", Json()), path + ": normalizer");
      section = "pre_tokenizer";
      pre_tokenizers_ = readPreTokenizers(j.value("pre_tokenizer", Json()), path + ": pre_tokenizer");
      section = "post_processor";
      readPostProcessor(j.value("post_processor", Json()), path + ": post_processor");
    } catch (const Json::exception& e) {
      DISTILL_FAIL(path, ": ", section, ": ", e.what());
    }
    DISTILL_CHECK(pre_tokenizers_.byte_level || bpe_options_.byte_fallback || bpe_options_.unk_token, path,
                  ": a BPE model with no ByteLevel pre-tokenizer, no byte_fallback and no unk_token cannot spell "
                  "every text; implemented: byte-level BPE (GPT-2, Llama 3, Qwen) and byte-fallback BPE "
                  "(Llama 2, Mistral, Gemma)");
  }

  std::vector<int64_t> encode(const std::string& text, bool add_special_tokens) const override {
    DISTILL_CHECK(validUtf8(text), "tokenizer: the text is not valid UTF-8");
    std::vector<int64_t> ids;
    if (add_special_tokens) ids.insert(ids.end(), prefix_.begin(), prefix_.end());
    size_t pos = 0;
    while (pos < text.size()) {
      const TokenMatch next = nextToken(text, pos, added_contents_);
      const AddedToken* best = next.found() ? &added_[next.index] : nullptr;
      size_t plain_end = best ? next.at : text.size();
      size_t resume = best ? next.at + best->content.size() : text.size();
      if (best && best->lstrip) while (plain_end > pos && isSpace(text[plain_end - 1])) --plain_end;
      if (best && best->rstrip) while (resume < text.size() && isSpace(text[resume])) ++resume;
      encodePlain(text.substr(pos, plain_end - pos), pos == 0, ids);
      if (best) ids.push_back(best->id);
      pos = resume;
    }
    if (add_special_tokens) ids.insert(ids.end(), suffix_.begin(), suffix_.end());
    return ids;
  }

  int64_t vocabSize() const override { return vocab_size_; }

  std::optional<int64_t> tokenId(const std::string& token) const override {
    for (const auto& t : added_) if (t.content == token) return t.id;
    const auto it = bpe_->vocab().find(token);
    if (it == bpe_->vocab().end()) return std::nullopt;
    return it->second;
  }

 private:
  // A stretch of text between added tokens; `starts_input`: it begins the text.
  void encodePlain(const std::string& raw, bool starts_input, std::vector<int64_t>& ids) const {
    if (raw.empty()) return;
    std::string normalized = raw;
    for (const auto& normalize : normalizers_) normalized = normalize(normalized);
    for (const auto& piece : pre_tokenizers_.apply({normalized}, starts_input)) {
      if (piece.empty()) continue;
      const auto word = bpe_->encodeWord(piece);
      ids.insert(ids.end(), word.begin(), word.end());
    }
  }

  void readModel(const Json& m, const std::string& where) {
    DISTILL_CHECK(typeOf(m, where) == "BPE", where, ".type is \"", m.at("type").get<std::string>(),
                  "\"; only BPE models are implemented");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      DISTILL_CHECK(!m.contains(key) || m.at(key).is_null() || m.at(key).get<std::string>().empty(), where, ".", key,
                    " is not implemented");
    }
    DISTILL_CHECK(!m.contains("dropout") || m.at("dropout").is_null(), where, ".dropout (BPE dropout) is not implemented");
    DISTILL_CHECK(m.contains("vocab") && m.at("vocab").is_object(), where, ".vocab: expected an object token -> id");
    std::unordered_map<std::string, int64_t> vocab;
    for (const auto& [token, id] : m.at("vocab").items()) {
      const int64_t value = tokenIdOf(id, where + ".vocab[\"" + token + "\"]");
      vocab.emplace(token, value);
      vocab_size_ = std::max(vocab_size_, value + 1);
    }
    std::vector<std::pair<std::string, std::string>> merges;
    for (const auto& merge : m.value("merges", Json::array())) {
      if (merge.is_string()) {  // "a b"
        const std::string s = merge.get<std::string>();
        const size_t space = s.find(' ', 1);
        DISTILL_CHECK(space != std::string::npos, where, ".merges: \"", s, "\" is not \"left right\"");
        merges.emplace_back(s.substr(0, space), s.substr(space + 1));
      } else {  // ["a", "b"]
        DISTILL_CHECK(merge.is_array() && merge.size() == 2, where, ".merges: expected \"a b\" or [\"a\", \"b\"]");
        merges.emplace_back(merge.at(0).get<std::string>(), merge.at(1).get<std::string>());
      }
    }
    bpe_options_.ignore_merges = flag(m, "ignore_merges", false);
    bpe_options_.byte_fallback = flag(m, "byte_fallback", false);
    bpe_options_.fuse_unk = flag(m, "fuse_unk", false);
    if (m.contains("unk_token") && m.at("unk_token").is_string()) bpe_options_.unk_token = m.at("unk_token").get<std::string>();
    try {
      bpe_ = std::make_unique<Bpe>(std::move(vocab), merges, bpe_options_);
    } catch (const Error& e) {
      DISTILL_FAIL(where, ": ", e.what());
    }
  }

  void readAdded(const Json& list, const std::string& where) {
    for (const auto& t : list) {
      DISTILL_CHECK(!flag(t, "single_word", false), where, ": \"", t.value("content", ""),
                    "\" has single_word, which is not implemented");
      if (t.at("content").get<std::string>().empty()) continue;  // tokenizers ignores empty added tokens too
      added_.push_back({t.at("content").get<std::string>(), tokenIdOf(t.at("id"), where), flag(t, "lstrip", false),
                        flag(t, "rstrip", false)});
      added_contents_.push_back(added_.back().content);
      vocab_size_ = std::max(vocab_size_, added_.back().id + 1);
    }
  }

  void readPostProcessor(const Json& p, const std::string& where) {
    if (p.is_null()) return;
    const std::string type = typeOf(p, where);
    if (type == "Sequence") {
      for (const auto& inner : p.at("processors")) readPostProcessor(inner, where + ".processors");
    } else if (type == "TemplateProcessing") {
      bool after = false;
      for (const auto& item : p.at("single")) {
        if (item.contains("Sequence")) {
          after = true;
          continue;
        }
        const std::string id = item.at("SpecialToken").at("id").get<std::string>();
        DISTILL_CHECK(p.at("special_tokens").contains(id), where, ": special token \"", id, "\" has no ids");
        for (const auto& token_id : p.at("special_tokens").at(id).at("ids")) {
          (after ? suffix_ : prefix_).push_back(tokenIdOf(token_id, where + ": special token \"" + id + "\""));
        }
      }
    } else {
      DISTILL_CHECK(type == "ByteLevel", where, ".type is \"", type,
                    "\"; implemented: ByteLevel, TemplateProcessing, Sequence");
    }
  }

  std::unique_ptr<Bpe> bpe_;
  std::vector<AddedToken> added_;
  std::vector<std::string> added_contents_;  // added_[i].content, for nextToken
  BpeOptions bpe_options_;
  std::vector<Normalizer> normalizers_;
  PreTokenizers pre_tokenizers_;
  std::vector<int64_t> prefix_, suffix_;
  int64_t vocab_size_ = 0;
};

}  // namespace

std::unique_ptr<Tokenizer> loadHfTokenizer(const std::string& path) { return std::make_unique<HfTokenizer>(path); }

}  // namespace distill::text
