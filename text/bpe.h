// Byte-pair encoding over a vocabulary and ranked merges, as Hugging Face
// tokenizers' BPE model: a word is split into characters, and the adjacent
// pair with the lowest merge rank is merged until none applies.
//
//   ignore_merges   (Llama 3) a word the vocabulary holds whole is one token
//   byte_fallback   (Llama 2, Mistral, Gemma) a piece not in the vocabulary is
//                   spelled as its bytes, "<0xE2>" "<0x96>" ...
//   unk_token       otherwise such a piece is this token (consecutive ones
//                   fused into one with fuse_unk); without it, an error
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace distill::text {

struct BpeOptions {
  bool ignore_merges = false;
  bool byte_fallback = false;
  std::optional<std::string> unk_token;
  bool fuse_unk = false;
};

class Bpe {
 public:
  // Throws distill::Error when unk_token is not in the vocabulary.
  Bpe(std::unordered_map<std::string, int64_t> vocab, const std::vector<std::pair<std::string, std::string>>& merges,
      BpeOptions options);

  // Ids of `word` (already in the vocabulary's alphabet). Throws
  // distill::Error when a piece is not in the vocabulary and nothing stands for it.
  std::vector<int64_t> encodeWord(const std::string& word) const;
  const std::unordered_map<std::string, int64_t>& vocab() const { return vocab_; }

 private:
  void spell(const std::string& piece, const std::string& word, std::vector<int64_t>& ids, bool& after_unk) const;

  std::unordered_map<std::string, int64_t> vocab_;
  std::map<std::pair<std::string, std::string>, int64_t> ranks_;
  BpeOptions options_;
  std::optional<int64_t> unk_id_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

}  // namespace distill::text
