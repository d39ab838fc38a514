#include "text/bpe.h"

#include <algorithm>
#include <limits>

#include "common/error.h"

namespace distill::text {
namespace {

// The UTF-8 characters of `s`.
std::vector<std::string> characters(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    const size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace

Bpe::Bpe(std::unordered_map<std::string, int64_t> vocab,
         const std::vector<std::pair<std::string, std::string>>& merges, bool ignore_merges)
    : vocab_(std::move(vocab)), ignore_merges_(ignore_merges) {
  for (size_t i = 0; i < merges.size(); ++i) ranks_.emplace(merges[i], static_cast<int64_t>(i));
}

std::vector<int64_t> Bpe::encodeWord(const std::string& word) const {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto hit = cache_.find(word);
    if (hit != cache_.end()) return hit->second;
  }
  std::vector<int64_t> ids;
  const auto whole = vocab_.find(word);
  if (ignore_merges_ && whole != vocab_.end()) {
    ids.push_back(whole->second);
  } else {
    std::vector<std::string> parts = characters(word);
    // rank[i]: the merge rank of (parts[i], parts[i + 1]); after a merge only
    // the two pairs around it change, so each merge costs one scan for the minimum.
    constexpr int64_t kNone = std::numeric_limits<int64_t>::max();
    auto rankOf = [&](size_t i) {
      const auto r = ranks_.find({parts[i], parts[i + 1]});
      return r == ranks_.end() ? kNone : r->second;
    };
    std::vector<int64_t> rank;
    for (size_t i = 0; i + 1 < parts.size(); ++i) rank.push_back(rankOf(i));
    while (!rank.empty()) {
      const auto best = std::min_element(rank.begin(), rank.end());  // the leftmost of the lowest rank
      if (*best == kNone) break;
      const auto at = static_cast<size_t>(best - rank.begin());
      parts[at] += parts[at + 1];
      parts.erase(parts.begin() + static_cast<long>(at) + 1);
      rank.erase(rank.begin() + static_cast<long>(at));
      if (at + 1 < parts.size()) rank[at] = rankOf(at);
      if (at > 0) rank[at - 1] = rankOf(at - 1);
    }
    for (const auto& p : parts) {
      const auto it = vocab_.find(p);
      DISTILL_CHECK(it != vocab_.end(), "tokenizer: \"", p, "\" (from \"", word,
                    "\") is not in the vocabulary and the model has no unk_token");
      ids.push_back(it->second);
    }
  }
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() < 200000) cache_.emplace(word, ids);
  return ids;
}

}  // namespace distill::text
