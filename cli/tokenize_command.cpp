// `distill tokenize`: lines on stdin -> one JSON array of token ids per line,
// so users can check what their data becomes (docs/data.md).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "common/error.h"
#include "text/tokenizer.h"

namespace distill::cli {
namespace {

struct TokenizeArgs {
  std::string tokenizer;
  bool no_special = false;
};

int tokenize(const TokenizeArgs& a) {
  const auto tokenizer = text::Tokenizer::load(a.tokenizer);
  std::string line, out;
  for (uint64_t number = 1; std::getline(std::cin, line); ++number) {
    std::vector<int64_t> ids;
    try {
      ids = tokenizer->encode(line, !a.no_special);
    } catch (const Error& e) {
      DISTILL_FAIL("stdin line ", number, ": ", e.what());
    }
    out.assign("[");
    for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
    out += "]\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  return 0;
}

}  // namespace

void addTokenize(CLI::App& app, Run& run) {
  auto a = std::make_shared<TokenizeArgs>();
  auto* cmd = app.add_subcommand("tokenize", "Print the token ids of each line of stdin as a JSON array");
  cmd->add_option("--tokenizer", a->tokenizer,
                  "tokenizer.json (Hugging Face tokenizers) or tokenizer.model (SentencePiece)")
      ->required();
  cmd->add_flag("--no-special-tokens", a->no_special, "Do not add the post-processor's special tokens (BOS, ...)");
  cmd->callback([a, &run] { run = [a] { return tokenize(*a); }; });
}

}  // namespace distill::cli
