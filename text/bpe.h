// Byte-pair encoding over a vocabulary and ranked merges, as Hugging Face
// tokenizers' BPE model: a word is split into characters, and the adjacent
// pair with the lowest merge rank is merged until none applies. With
// `ignore_merges` (Llama 3), a word the vocabulary holds whole is one token.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace distill::text {

class Bpe {
 public:
  Bpe(std::unordered_map<std::string, int64_t> vocab, const std::vector<std::pair<std::string, std::string>>& merges,
      bool ignore_merges);

  // Ids of `word` (already in the vocabulary's alphabet). Throws
  // distill::Error when a character is not in the vocabulary.
  std::vector<int64_t> encodeWord(const std::string& word) const;
  const std::unordered_map<std::string, int64_t>& vocab() const { return vocab_; }

 private:
  std::unordered_map<std::string, int64_t> vocab_;
  std::map<std::pair<std::string, std::string>, int64_t> ranks_;
  bool ignore_merges_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

}  // namespace distill::text
