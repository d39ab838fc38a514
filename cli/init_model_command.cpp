// `distill init-model`: writes a built-in transformer as TorchScript, so a job
// needs no Python (docs/models.md).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "common/error.h"
#include "trainer/model/builtin.h"

namespace distill::cli {
namespace {

struct InitModelArgs {
  std::string arch = "encoder-classifier";
  model::TransformerSize size;
  int64_t classes = 0;
  uint64_t seed = 1;
  std::string out;
};

int initModel(const InitModelArgs& args) {
  torch::jit::Module module;
  if (args.arch == "encoder-classifier") {
    DISTILL_CHECK(args.classes > 0, "init-model: --classes is required for encoder-classifier");
    module = model::buildEncoderClassifier(args.size, args.classes, args.seed);
  } else if (args.arch == "decoder-lm") {
    module = model::buildDecoderLM(args.size, args.seed);
  } else {
    DISTILL_FAIL("init-model: unknown --arch \"", args.arch, "\" (known: encoder-classifier, decoder-lm)");
  }
  module.save(args.out);
  int64_t params = 0;
  for (const auto& p : module.parameters()) params += p.numel();
  std::printf("wrote %s: %s, %lld parameters\n", args.out.c_str(), args.arch.c_str(),
              static_cast<long long>(params));
  return 0;
}

}  // namespace

void addInitModel(CLI::App& app, Run& run) {
  auto a = std::make_shared<InitModelArgs>();
  auto* cmd = app.add_subcommand("init-model", "Write a built-in transformer as TorchScript");
  cmd->add_option("--arch", a->arch, "encoder-classifier | decoder-lm")->capture_default_str();
  cmd->add_option("--vocab", a->size.vocab_size, "Vocabulary size")->capture_default_str();
  cmd->add_option("--max-len", a->size.max_len, "Longest sequence")->capture_default_str();
  cmd->add_option("--d-model", a->size.d_model, "Hidden width")->capture_default_str();
  cmd->add_option("--layers", a->size.num_layers, "Transformer blocks")->capture_default_str();
  cmd->add_option("--heads", a->size.num_heads, "Attention heads")->capture_default_str();
  cmd->add_option("--d-ff", a->size.d_ff, "Feed-forward width")->capture_default_str();
  cmd->add_option("--dropout", a->size.dropout, "Dropout probability")->capture_default_str();
  cmd->add_option("--classes", a->classes, "Output classes (encoder-classifier)");
  cmd->add_option("--seed", a->seed, "Initialisation seed")->capture_default_str();
  cmd->add_option("--out", a->out, "Output TorchScript file")->required();
  cmd->callback([a, &run] { run = [a] { return initModel(*a); }; });
}

}  // namespace distill::cli
