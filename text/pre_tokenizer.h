// The pre-tokenizers of a tokenizer.json: they cut a normalized stretch of
// text into the pieces the model encodes one by one.
//
//   Split       a regex, "Isolated" (matches and the text between them kept)
//   ByteLevel   GPT-2's regex (use_regex), add_prefix_space, then every byte
//               spelled in the byte-level alphabet
//   Metaspace   " " -> replacement ("▁"); prepend_scheme always / first (only
//               at the start of the input) / never; split before each replacement
//   Sequence    the above, in order
//
// Anything else is an error naming the file and the field.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace distill::text {

struct PreTokenizers {
  using Pieces = std::vector<std::string>;
  // `starts_input`: pieces[0] begins at the first byte of the text being encoded.
  using Step = std::function<Pieces(const Pieces& pieces, bool starts_input)>;

  std::vector<Step> steps;
  bool byte_level = false;  // a ByteLevel step: every byte has a token of its own

  Pieces apply(Pieces pieces, bool starts_input) const {
    for (const auto& step : steps) pieces = step(pieces, starts_input);
    return pieces;
  }
};

// The steps of `spec` (null: none); `where` names it in errors ("tokenizer.json: pre_tokenizer").
PreTokenizers readPreTokenizers(const nlohmann::json& spec, const std::string& where);

}  // namespace distill::text
