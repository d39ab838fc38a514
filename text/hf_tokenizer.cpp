#include "text/hf_tokenizer.h"

#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "common/error.h"
#include "text/bpe.h"
#include "text/byte_level.h"
#include "text/regex_split.h"

namespace distill::text {
namespace {

using Json = nlohmann::json;
using Pieces = std::vector<std::string>;

// GPT-2's pre-tokenizer regex (ByteLevel with use_regex).
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::string typeOf(const Json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("type") || !j.at("type").is_string()) {
    DISTILL_FAIL(where, ": expected an object with a \"type\"");
  }
  return j.at("type").get<std::string>();
}

bool flag(const Json& j, const char* key, bool fallback) {
  return j.contains(key) && j.at(key).is_boolean() ? j.at(key).get<bool>() : fallback;
}

std::string nfc(const std::string& s) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = icu::Normalizer2::getNFCInstance(status);
  DISTILL_CHECK(U_SUCCESS(status), "tokenizer: ICU's NFC normalizer is unavailable: ", u_errorName(status));
  const icu::UnicodeString out = normalizer->normalize(icu::UnicodeString::fromUTF8(s), status);
  DISTILL_CHECK(U_SUCCESS(status), "tokenizer: cannot NFC-normalize the text: ", u_errorName(status));
  std::string utf8;
  out.toUTF8String(utf8);
  return utf8;
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
      readNormalizer(j.value("normalizer", Json()), path + ": normalizer");
      section = "pre_tokenizer";
      readPreTokenizer(j.value("pre_tokenizer", Json()), path + ": pre_tokenizer");
      section = "post_processor";
      readPostProcessor(j.value("post_processor", Json()), path + ": post_processor");
    } catch (const Json::exception& e) {
      DISTILL_FAIL(path, ": ", section, ": ", e.what());
    }
    DISTILL_CHECK(byte_level_, path, ": pre_tokenizer has no ByteLevel step; only byte-level BPE tokenizers are "
                  "implemented (GPT-2, Llama 3, Qwen styles)");
  }

  std::vector<int64_t> encode(const std::string& text, bool add_special_tokens) const override {
    DISTILL_CHECK(validUtf8(text), "tokenizer: the text is not valid UTF-8");
    std::vector<int64_t> ids;
    if (add_special_tokens) ids.insert(ids.end(), prefix_.begin(), prefix_.end());
    size_t pos = 0;
    while (pos < text.size()) {
      // The next added token: leftmost, then longest.
      size_t best_at = std::string::npos;
      const AddedToken* best = nullptr;
      for (const auto& t : added_) {
        const size_t at = text.find(t.content, pos);
        if (at == std::string::npos) continue;
        if (at < best_at || (at == best_at && t.content.size() > best->content.size())) best_at = at, best = &t;
      }
      size_t plain_end = best ? best_at : text.size();
      size_t resume = best ? best_at + best->content.size() : text.size();
      if (best && best->lstrip) while (plain_end > pos && isSpace(text[plain_end - 1])) --plain_end;
      if (best && best->rstrip) while (resume < text.size() && isSpace(text[resume])) ++resume;
      encodePlain(text.substr(pos, plain_end - pos), ids);
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
  void encodePlain(const std::string& raw, std::vector<int64_t>& ids) const {
    if (raw.empty()) return;
    Pieces pieces{normalize_ ? nfc(raw) : raw};
    for (const auto& step : steps_) pieces = step(pieces);
    for (const auto& piece : pieces) {
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
    DISTILL_CHECK(!flag(m, "byte_fallback", false), where, ".byte_fallback is not implemented");
    DISTILL_CHECK(m.contains("vocab") && m.at("vocab").is_object(), where, ".vocab: expected an object token -> id");
    std::unordered_map<std::string, int64_t> vocab;
    for (const auto& [token, id] : m.at("vocab").items()) {
      vocab.emplace(token, id.get<int64_t>());
      vocab_size_ = std::max(vocab_size_, id.get<int64_t>() + 1);
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
    bpe_ = std::make_unique<Bpe>(std::move(vocab), merges, flag(m, "ignore_merges", false));
  }

  void readAdded(const Json& list, const std::string& where) {
    for (const auto& t : list) {
      DISTILL_CHECK(!flag(t, "single_word", false), where, ": \"", t.value("content", ""),
                    "\" has single_word, which is not implemented");
      if (t.at("content").get<std::string>().empty()) continue;  // tokenizers ignores empty added tokens too
      added_.push_back({t.at("content").get<std::string>(), t.at("id").get<int64_t>(), flag(t, "lstrip", false),
                        flag(t, "rstrip", false)});
      vocab_size_ = std::max(vocab_size_, added_.back().id + 1);
    }
  }

  void readNormalizer(const Json& n, const std::string& where) {
    if (n.is_null()) return;
    const std::string type = typeOf(n, where);
    if (type == "Sequence") {
      for (const auto& inner : n.at("normalizers")) readNormalizer(inner, where + ".normalizers");
      return;
    }
    DISTILL_CHECK(type == "NFC", where, ".type is \"", type, "\"; implemented: NFC (or none)");
    normalize_ = true;
  }

  void readPreTokenizer(const Json& p, const std::string& where) {
    if (p.is_null()) return;
    const std::string type = typeOf(p, where);
    if (type == "Sequence") {
      for (const auto& inner : p.at("pretokenizers")) readPreTokenizer(inner, where + ".pretokenizers");
    } else if (type == "Split") {
      DISTILL_CHECK(p.value("behavior", "") == "Isolated" && !flag(p, "invert", false), where,
                    ": Split with behavior \"", p.value("behavior", ""), "\" or invert is not implemented (Isolated is)");
      const Json& pattern = p.at("pattern");
      DISTILL_CHECK(pattern.contains("Regex"), where, ".pattern: only {\"Regex\": ...} is implemented");
      auto splitter = std::make_shared<RegexSplitter>(pattern.at("Regex").get<std::string>(), where + ".pattern");
      steps_.push_back([splitter](const Pieces& in) {
        Pieces out;
        for (const auto& piece : in) {
          auto parts = splitter->split(piece);
          out.insert(out.end(), parts.begin(), parts.end());
        }
        return out;
      });
    } else if (type == "ByteLevel") {
      const bool prefix_space = flag(p, "add_prefix_space", false);
      std::shared_ptr<RegexSplitter> splitter;
      if (flag(p, "use_regex", true)) splitter = std::make_shared<RegexSplitter>(kGpt2Pattern, where + " (GPT-2 regex)");
      steps_.push_back([prefix_space, splitter](const Pieces& in) {
        Pieces out;
        for (std::string piece : in) {
          if (prefix_space && piece.rfind(' ', 0) != 0) piece = " " + piece;
          for (const auto& part : splitter ? splitter->split(piece) : Pieces{piece}) out.push_back(toByteLevel(part));
        }
        return out;
      });
      byte_level_ = true;
    } else {
      DISTILL_FAIL(where, ".type is \"", type, "\"; implemented: Split, ByteLevel, Sequence");
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
          (after ? suffix_ : prefix_).push_back(token_id.get<int64_t>());
        }
      }
    } else {
      DISTILL_CHECK(type == "ByteLevel", where, ".type is \"", type,
                    "\"; implemented: ByteLevel, TemplateProcessing, Sequence");
    }
  }

  std::unique_ptr<Bpe> bpe_;
  std::vector<AddedToken> added_;
  std::vector<std::function<Pieces(const Pieces&)>> steps_;
  std::vector<int64_t> prefix_, suffix_;
  bool normalize_ = false, byte_level_ = false;
  int64_t vocab_size_ = 0;
};

}  // namespace

std::unique_ptr<Tokenizer> loadHfTokenizer(const std::string& path) { return std::make_unique<HfTokenizer>(path); }

}  // namespace distill::text
