// A SentencePiece `tokenizer.model` (Llama 1/2, Mistral, Gemma, T5 ...),
// encoded by Debian's libsentencepiece itself, so the pieces are the
// library's: its normalizer, dummy prefix, BPE or unigram, byte fallback.
//
// Around it, what transformers' slow tokenizers (LlamaTokenizer) add:
//   - special tokens written in the text ("<s>", "</s>", "<unk>": the model's
//     control and unknown pieces) are their ids, not spelled out; the text
//     between them is encoded stretch by stretch;
//   - with add_special_tokens, BOS before the ids (and no EOS), unless a
//     `tokenizer_config.json` beside the model says otherwise
//     (add_bos_token, add_eos_token).
#pragma once

#include <memory>
#include <string>

#include "text/tokenizer.h"

namespace distill::text {

// Throws distill::Error naming the file when it is not a SentencePiece model.
std::unique_ptr<Tokenizer> loadSentencePieceTokenizer(const std::string& path);

}  // namespace distill::text
