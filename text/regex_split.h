// A pre-tokenizer's regular expression (Unicode classes such as \p{L},
// lookahead, case-insensitive groups), through PCRE2 with UTF and Unicode
// properties. split() keeps the matches and the text between them, in order
// (tokenizers' "Isolated" behaviour), so no byte of the input is lost.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace distill::text {

class RegexSplitter {
 public:
  // `where` names the pattern's origin in errors, e.g. "tokenizer.json: pre_tokenizer.pattern".
  RegexSplitter(const std::string& pattern, const std::string& where);
  ~RegexSplitter();
  RegexSplitter(const RegexSplitter&) = delete;
  RegexSplitter& operator=(const RegexSplitter&) = delete;

  // Throws distill::Error if `text` is not valid UTF-8.
  std::vector<std::string> split(const std::string& text) const;

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
  std::string where_;
};

}  // namespace distill::text
