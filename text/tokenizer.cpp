#include "text/tokenizer.h"

#include <filesystem>

#include "common/error.h"
#include "text/hf_tokenizer.h"

namespace distill::text {

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string& path) {
  DISTILL_CHECK(std::filesystem::is_regular_file(path), path, ": no such tokenizer file");
  DISTILL_CHECK(std::filesystem::path(path).extension() == ".json", path,
                ": not a tokenizer.json (Hugging Face tokenizers format); SentencePiece .model files are not "
                "implemented yet");
  return loadHfTokenizer(path);
}

}  // namespace distill::text
