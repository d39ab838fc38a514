// The normalizers of a tokenizer.json, applied to each stretch of text
// between added tokens before pre-tokenization:
//
//   NFC, NFD, NFKC, NFKD   Unicode normal forms (ICU)
//   Prepend                a prefix on a non-empty stretch ("▁" in Llama 2, Mistral)
//   Replace                every occurrence of a literal string ({"String": " "})
//   Sequence               the above, in order
//
// Anything else is an error naming the file and the field.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace distill::text {

using Normalizer = std::function<std::string(const std::string&)>;

// The steps of `spec` (null: none), in order; `where` names it in errors ("tokenizer.json: normalizer").
std::vector<Normalizer> readNormalizers(const nlohmann::json& spec, const std::string& where);

}  // namespace distill::text
