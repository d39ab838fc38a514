#include "text/bpe.h"

#include <algorithm>
#include <cstdio>
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
         const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  for (size_t i = 0; i < merges.size(); ++i) ranks_.emplace(merges[i], static_cast<int64_t>(i));
  if (options_.unk_token) {
    const auto it = vocab_.find(*options_.unk_token);
    DISTILL_CHECK(it != vocab_.end(), "tokenizer: unk_token \"", *options_.unk_token, "\" is not in the vocabulary");
    unk_id_ = it->second;
  }
}

// A piece left after the merges: its id, else its bytes (byte_fallback), else unk_token.
void Bpe::spell(const std::string& piece, const std::string& word, std::vector<int64_t>& ids, bool& after_unk) const {
  const auto it = vocab_.find(piece);
  if (it != vocab_.end()) {
    ids.push_back(it->second);
    after_unk = false;
    return;
  }
  if (options_.byte_fallback) {
    std::vector<int64_t> bytes;
    for (unsigned char b : piece) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      const auto byte = vocab_.find(name);
      if (byte == vocab_.end()) break;
      bytes.push_back(byte->second);
    }
    if (bytes.size() == piece.size()) {
      ids.insert(ids.end(), bytes.begin(), bytes.end());
      after_unk = false;
      return;
    }
  }
  DISTILL_CHECK(unk_id_.has_value(), "tokenizer: \"", piece, "\" (from \"", word,
                "\") is not in the vocabulary and the model has no unk_token");
  if (!(options_.fuse_unk && after_unk)) ids.push_back(*unk_id_);
  after_unk = true;
}

std::vector<int64_t> Bpe::encodeWord(const std::string& word) const {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto hit = cache_.find(word);
    if (hit != cache_.end()) return hit->second;
  }
  std::vector<int64_t> ids;
  const auto whole = vocab_.find(word);
  if (options_.ignore_merges && whole != vocab_.end()) {
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
    bool after_unk = false;
    for (const auto& p : parts) spell(p, word, ids, after_unk);
  }
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() < 200000) cache_.emplace(word, ids);
  return ids;
}

}  // namespace distill::text
