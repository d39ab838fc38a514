#include "text/token_match.h"

namespace distill::text {

TokenMatch nextToken(const std::string& text, size_t pos, const std::vector<std::string>& tokens) {
  TokenMatch best;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const size_t at = text.find(tokens[i], pos);
    if (at == std::string::npos) continue;
    if (at < best.at || (at == best.at && tokens[i].size() > tokens[best.index].size())) best = {at, i};
  }
  return best;
}

}  // namespace distill::text
