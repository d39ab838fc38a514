// The `tokenizer.json` of Hugging Face tokenizers, for byte-level BPE models:
//
//   added tokens   split out first (leftmost, longest; lstrip / rstrip honoured)
//   normalizer     none or NFC (ICU)
//   pre_tokenizer  Split (a regex, "Isolated") and ByteLevel (GPT-2's regex
//                  optional, add_prefix_space), alone or in a Sequence
//   model          BPE with ranked merges (either file layout), ignore_merges
//   post_processor none, ByteLevel (adds nothing) or TemplateProcessing (the
//                  special tokens around a single sequence), alone or in a Sequence
//
// Anything else is an error naming the file and the field, at load time.
#pragma once

#include <memory>
#include <string>

#include "text/tokenizer.h"

namespace distill::text {

std::unique_ptr<Tokenizer> loadHfTokenizer(const std::string& path);

}  // namespace distill::text
