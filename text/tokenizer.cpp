#include "text/tokenizer.h"

#include <filesystem>

#include "common/error.h"
#include "text/hf_tokenizer.h"
#include "text/sentencepiece_tokenizer.h"

namespace distill::text {

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string& path) {
  DISTILL_CHECK(std::filesystem::is_regular_file(path), path, ": no such tokenizer file");
  const auto extension = std::filesystem::path(path).extension();
  if (extension == ".json") return loadHfTokenizer(path);
  if (extension == ".model") return loadSentencePieceTokenizer(path);
  DISTILL_FAIL(path, ": not a tokenizer file: expected a Hugging Face tokenizer.json or a SentencePiece .model");
}

}  // namespace distill::text
