#include "text/pre_tokenizer.h"

#include <memory>

#include "common/error.h"
#include "text/byte_level.h"
#include "text/regex_split.h"

namespace distill::text {
namespace {

using Json = nlohmann::json;
using Pieces = PreTokenizers::Pieces;

// GPT-2's pre-tokenizer regex (ByteLevel with use_regex).
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

bool flag(const Json& j, const char* key, bool fallback) {
  return j.contains(key) && j.at(key).is_boolean() ? j.at(key).get<bool>() : fallback;
}

PreTokenizers::Step split(const Json& spec, const std::string& where) {
  DISTILL_CHECK(spec.value("behavior", "") == "Isolated" && !flag(spec, "invert", false), where,
                ": Split with behavior \"", spec.value("behavior", ""), "\" or invert is not implemented (Isolated is)");
  const Json& pattern = spec.at("pattern");
  DISTILL_CHECK(pattern.contains("Regex"), where, ".pattern: only {\"Regex\": ...} is implemented");
  auto splitter = std::make_shared<RegexSplitter>(pattern.at("Regex").get<std::string>(), where + ".pattern");
  return [splitter](const Pieces& in, bool) {
    Pieces out;
    for (const auto& piece : in) {
      auto parts = splitter->split(piece);
      out.insert(out.end(), parts.begin(), parts.end());
    }
    return out;
  };
}

PreTokenizers::Step byteLevel(const Json& spec, const std::string& where) {
  const bool prefix_space = flag(spec, "add_prefix_space", false);
  std::shared_ptr<RegexSplitter> splitter;
  if (flag(spec, "use_regex", true)) splitter = std::make_shared<RegexSplitter>(kGpt2Pattern, where + " (GPT-2 regex)");
  return [prefix_space, splitter](const Pieces& in, bool) {
    Pieces out;
    for (std::string piece : in) {
      if (prefix_space && piece.rfind(' ', 0) != 0) piece = " " + piece;
      for (const auto& part : splitter ? splitter->split(piece) : Pieces{piece}) out.push_back(toByteLevel(part));
    }
    return out;
  };
}

// SentencePiece's whitespace convention: spaces become the replacement
// character, one is prepended to mark a word start, and (with `split`) each
// replacement begins a new piece ("▁Hello▁▁world" -> "▁Hello", "▁", "▁world").
PreTokenizers::Step metaspace(const Json& spec, const std::string& where) {
  const std::string replacement = spec.value("replacement", "\u2581");
  DISTILL_CHECK(!replacement.empty(), where, ".replacement is empty");
  std::string scheme = spec.value("prepend_scheme", "");
  if (scheme.empty()) scheme = flag(spec, "add_prefix_space", true) ? "always" : "never";  // older files
  DISTILL_CHECK(scheme == "always" || scheme == "first" || scheme == "never", where, ".prepend_scheme is \"", scheme,
                "\"; expected always, first or never");
  const bool split_pieces = flag(spec, "split", true);
  return [replacement, scheme, split_pieces](const Pieces& in, bool starts_input) {
    Pieces out;
    for (size_t i = 0; i < in.size(); ++i) {
      std::string piece;
      for (char c : in[i]) {
        if (c == ' ') {
          piece += replacement;
        } else {
          piece += c;
        }
      }
      const bool at_start = starts_input && i == 0;
      if ((scheme == "always" || (scheme == "first" && at_start)) && piece.rfind(replacement, 0) != 0) {
        piece = replacement + piece;
      }
      if (!split_pieces) {
        out.push_back(std::move(piece));
        continue;
      }
      size_t begin = 0;
      for (size_t at = piece.find(replacement, 1); at != std::string::npos; at = piece.find(replacement, at + 1)) {
        out.push_back(piece.substr(begin, at - begin));
        begin = at;
      }
      out.push_back(piece.substr(begin));
    }
    return out;
  };
}

void read(const Json& spec, const std::string& where, PreTokenizers& into) {
  if (spec.is_null()) return;
  DISTILL_CHECK(spec.is_object() && spec.contains("type") && spec.at("type").is_string(), where,
                ": expected an object with a \"type\"");
  const std::string type = spec.at("type").get<std::string>();
  if (type == "Sequence") {
    for (const auto& inner : spec.at("pretokenizers")) read(inner, where + ".pretokenizers", into);
  } else if (type == "Split") {
    into.steps.push_back(split(spec, where));
  } else if (type == "ByteLevel") {
    into.steps.push_back(byteLevel(spec, where));
    into.byte_level = true;
  } else if (type == "Metaspace") {
    into.steps.push_back(metaspace(spec, where));
  } else {
    DISTILL_FAIL(where, ".type is \"", type, "\"; implemented: Split, ByteLevel, Metaspace, Sequence");
  }
}

}  // namespace

PreTokenizers readPreTokenizers(const nlohmann::json& spec, const std::string& where) {
  PreTokenizers into;
  read(spec, where, into);
  return into;
}

}  // namespace distill::text
