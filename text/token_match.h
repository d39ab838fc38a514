// Where the next special (added) token starts in a text: tokenizers split
// these out of the raw text before anything else, the leftmost first and, of
// two starting at the same byte, the longest.
//
//   TokenMatch m = nextToken(text, pos, {"<s>", "</s>"});
//   if (m.found()) ...  // tokens[m.index] starts at text[m.at]
#pragma once

#include <string>
#include <vector>

namespace distill::text {

struct TokenMatch {
  size_t at = std::string::npos;
  size_t index = 0;  // into the tokens searched
  bool found() const { return at != std::string::npos; }
};

TokenMatch nextToken(const std::string& text, size_t pos, const std::vector<std::string>& tokens);

}  // namespace distill::text
