// Text to token ids, as the model's own tokenizer does it.
//
//   auto tok = text::Tokenizer::load("tokenizer.json");   // or a SentencePiece "tokenizer.model"
//   std::vector<int64_t> ids = tok->encode("Hello world", /*add_special_tokens=*/true);
//
// Implemented, by the file's extension:
//   .json    the `tokenizer.json` of Hugging Face tokenizers with a BPE model,
//            byte-level (GPT-2, Llama 3, Qwen) or with byte fallback (Llama 2,
//            Mistral, Gemma); hf_tokenizer.h. Anything else in the file
//            (another model type, normalizer, pre-tokenizer or post-processor)
//            is refused with an error naming the file and the field.
//   .model   a SentencePiece model, through libsentencepiece; sentencepiece_tokenizer.h.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace distill::text {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Throws distill::Error naming the file (and field) when it cannot be read or is not supported.
  static std::unique_ptr<Tokenizer> load(const std::string& path);

  // `add_special_tokens`: what the post-processor adds around a sequence (a BOS, ...), as transformers' default.
  virtual std::vector<int64_t> encode(const std::string& text, bool add_special_tokens = true) const = 0;
  virtual int64_t vocabSize() const = 0;  // the largest id + 1, added tokens included
  // The id of a token such as "<|end_of_text|>", if the vocabulary has it.
  virtual std::optional<int64_t> tokenId(const std::string& token) const = 0;
};

}  // namespace distill::text
