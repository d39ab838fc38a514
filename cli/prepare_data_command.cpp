// `distill prepare-data`: a dataset of safetensors shards + dataset.json, from a
// JSONL file of token ids and labels, or a synthetic task (docs/data.md).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <sstream>

#include "cli/commands.h"
#include "common/error.h"
#include "trainer/data/prepare_data.h"
#include "trainer/data/prepare_text.h"
#include "trainer/data/synthetic_task.h"

namespace distill::cli {
namespace {

struct PrepareArgs {
  std::string jsonl;
  std::string synthetic;
  std::string text;
  std::string packing = "pack";
  data::TextPrepareOptions from_text;
  std::string out;
  data::PrepareOptions prepare;
  data::SyntheticOptions synth;
  std::string classes;  // "0,1,2"
  uint64_t samples_per_shard = 0;  // 0: each path's default
};

std::vector<int64_t> parseClasses(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      out.push_back(std::stoll(item));
    } catch (const std::exception&) {
      DISTILL_FAIL("prepare-data: --classes: \"", item, "\" is not a class index (expected e.g. 0,1,2)");
    }
  }
  return out;
}

int prepare(PrepareArgs args) {
  DISTILL_CHECK(!args.jsonl.empty() + !args.synthetic.empty() + !args.text.empty() == 1,
                "prepare-data: give exactly one of --jsonl FILE, --text FILE and --synthetic TASK");
  data::DatasetManifest manifest;
  if (!args.text.empty()) {
    DISTILL_CHECK(args.packing == "pack" || args.packing == "none", "prepare-data: --packing must be pack or none, got \"",
                  args.packing, "\"");
    args.from_text.packing = args.packing == "pack";
    args.from_text.seq_len = args.prepare.seq_len;
    if (args.samples_per_shard > 0) args.from_text.samples_per_shard = args.samples_per_shard;
    manifest = data::prepareFromText(args.text, args.out, args.from_text);
  } else if (!args.jsonl.empty()) {
    manifest = data::prepareFromJsonl(args.jsonl, args.out, args.prepare);
  } else {
    if (args.synthetic == "classification") {
      args.synth.task = data::kTaskClassification;
    } else if (args.synthetic == "language-modeling") {
      args.synth.task = data::kTaskLanguageModeling;
    } else {
      DISTILL_FAIL("prepare-data: unknown --synthetic \"", args.synthetic,
                   "\" (known: classification, language-modeling)");
    }
    args.synth.classes = parseClasses(args.classes);
    manifest = data::writeSyntheticTask(args.synth, args.out);
  }
  std::printf("wrote %s: %llu samples in %zu shards (%s, seq_len %lld)\n", args.out.c_str(),
              static_cast<unsigned long long>(manifest.num_samples), manifest.shards.size(), manifest.task.c_str(),
              static_cast<long long>(manifest.seq_len));
  return 0;
}

}  // namespace

void addPrepareData(CLI::App& app, Run& run) {
  auto a = std::make_shared<PrepareArgs>();
  auto* cmd = app.add_subcommand("prepare-data", "Write a dataset of safetensors shards");
  cmd->add_option("--jsonl", a->jsonl, "JSONL file: {\"input_ids\": [...], \"label\": n} per line");
  cmd->add_option("--synthetic", a->synthetic, "classification | language-modeling");
  cmd->add_option("--text", a->text, "JSONL file of documents: {\"text\": \"...\"} per line (tokenized with --tokenizer)");
  cmd->add_option("--tokenizer", a->from_text.tokenizer, "Text: the model's tokenizer.json or SentencePiece tokenizer.model");
  cmd->add_option("--text-field", a->from_text.text_field, "Text: the field holding the document")->capture_default_str();
  cmd->add_option("--label-field", a->from_text.label_field, "Text: an integer label field (classification)");
  cmd->add_option("--packing", a->packing,
                  "Text, language modeling: pack (documents joined by end-of-text into seq_len blocks) | none (one per "
                  "sample, padded)")->capture_default_str();
  cmd->add_option("--max-tokens", a->from_text.max_tokens, "Text: stop after this many tokens (0: all)");
  cmd->add_option("--threads", a->from_text.threads, "Text: tokenizing threads (0: every core)");
  cmd->add_option("--eos-token", a->from_text.eos_token, "Text: the end-of-text token (default: the tokenizer's own)");
  cmd->add_option("--out", a->out, "Output directory")->required();
  cmd->add_option("--seq-len", a->prepare.seq_len, "JSONL and text: sample length in tokens")->capture_default_str();
  cmd->add_option("--samples-per-shard", a->samples_per_shard, "Samples per shard file (default 4096, synthetic 1024)");
  cmd->add_option("--vocab-size", a->prepare.vocab_size, "JSONL: vocabulary size (0: max id + 1)");
  cmd->add_option("--num-classes", a->prepare.num_classes, "JSONL: classes (0: max label + 1)");
  cmd->add_option("--num-samples", a->synth.num_samples, "Synthetic: samples")->capture_default_str();
  cmd->add_option("--seed", a->synth.seed, "Synthetic: seed")->capture_default_str();
  cmd->add_option("--vocab", a->synth.vocab_size, "Synthetic: vocabulary size")->capture_default_str();
  cmd->add_option("--length", a->synth.seq_len, "Synthetic: sequence length")->capture_default_str();
  cmd->add_option("--classes-count", a->synth.num_classes, "Synthetic: classes")->capture_default_str();
  cmd->add_option("--label-noise", a->synth.label_noise, "Synthetic: fraction of flipped labels")
      ->capture_default_str();
  cmd->add_option("--classes", a->classes, "Synthetic: keep only these classes, e.g. 0,1");
  cmd->add_flag("--relabel", a->synth.relabel,
                "Synthetic, with --classes: write class classes[j] as label j (data for a partial-class teacher)");
  cmd->callback([a, &run] {
    run = [a] {
      if (a->samples_per_shard > 0) a->prepare.samples_per_shard = a->synth.samples_per_shard = a->samples_per_shard;
      return prepare(*a);
    };
  });
}

}  // namespace distill::cli
