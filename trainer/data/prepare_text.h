// `distill prepare-data --text`: a dataset from text, tokenized with the
// model's own tokenizer (text/tokenizer.h). Each JSONL line is a document,
// {"text": "..."} (the field is --text-field), plus a label for classification.
//
// Language modeling (no --label-field):
//   pack (default)  the documents' tokens, each followed by the end-of-text
//                   token, form one stream cut into samples of seq_len tokens;
//                   labels are the next token (the sample after is one token
//                   on, so no token goes unpredicted); the last, shorter
//                   sample is padded with labels -100
//   none            one document per sample: its first seq_len + 1 tokens
//                   (end-of-text included) give seq_len inputs and their
//                   next tokens; a shorter one is padded (labels -100)
// Classification (--label-field): one document per sample, truncated or padded,
// with its integer label.
//
//   data::TextPrepareOptions opt;
//   opt.tokenizer = "tokenizer.json";
//   data::prepareFromText("corpus.jsonl", "data/train", opt);
#pragma once

#include <cstdint>
#include <string>

#include "common/dataset_manifest.h"

namespace distill::data {

struct TextPrepareOptions {
  std::string tokenizer;          // tokenizer.json
  std::string text_field = "text";
  std::string label_field;        // non-empty: classification
  int64_t seq_len = 128;
  bool packing = true;            // language modeling: pack documents (false: one per sample)
  uint64_t max_tokens = 0;        // 0: the whole file; else stop after this many tokens
  int threads = 0;                // tokenizing threads; 0: every core
  uint64_t samples_per_shard = 4096;
  std::string eos_token;          // "": the tokenizer's own end-of-text token
};

// Throws distill::Error naming the file and line (not JSON, a missing or
// mistyped field) or the tokenizer; nothing is left as a dataset then
// (dataset.json, the commit point, is written last).
DatasetManifest prepareFromText(const std::string& jsonl, const std::string& out_dir,
                                const TextPrepareOptions& options);

}  // namespace distill::data
