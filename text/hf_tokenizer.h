// The `tokenizer.json` of Hugging Face tokenizers, for BPE models: byte-level
// (GPT-2, Llama 3, Qwen) and SentencePiece-style with byte fallback (Llama 2,
// Mistral, Gemma):
//
//   added tokens   split out first (leftmost, longest; lstrip / rstrip honoured)
//   normalizer     normalizer.h: Unicode forms, Prepend, Replace
//   pre_tokenizer  pre_tokenizer.h: Split, ByteLevel, Metaspace
//   model          BPE with ranked merges (either file layout), ignore_merges,
//                  byte_fallback, unk_token / fuse_unk (bpe.h)
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
