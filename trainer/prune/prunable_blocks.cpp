#include "trainer/prune/prunable_blocks.h"

#include "common/error.h"
#include "trainer/model/hf/rms_decoder.h"

namespace distill::prune {

PrunableBlocks prunableBlocks(torch::jit::Module& model, const std::string& path,
                              const data::DatasetManifest& calibration) {
  const std::string arch = model.hasattr("distill_arch") ? model.attr("distill_arch").toStringRef() : "";
  const bool builtin = arch == "decoder-lm" || arch == "encoder-classifier";
  const bool hf_decoder = model::hf::isDecoderArch(arch);
  const bool bert = arch == "hf-bert" || arch == "hf-bert-classifier";
  DISTILL_CHECK(builtin || hf_decoder || bert || arch == "hf-gpt2", path,
                ": distill prune prunes the built-in architectures (decoder-lm, encoder-classifier; distill init-model) "
                "and the Hugging Face imports hf-llama, hf-qwen2, hf-mistral, hf-gpt2, hf-bert, hf-bert-classifier "
                "(distill import-hf); this model is ", arch.empty() ? "none of them" : "a " + arch);
  DISTILL_CHECK(!model.hasattr("ffn_experts"), path, ": its FFNs are routed experts (distill moefy); prune the dense "
                "model, then moefy the pruned one");
  const int64_t vocab = model.attr("vocab_size").toInt(), max_len = model.attr("max_len").toInt();
  DISTILL_CHECK(calibration.vocab_size <= 0 || calibration.vocab_size == vocab, "--calibration ", calibration.dir,
                ": its vocabulary has ", calibration.vocab_size, " entries, the model ", path, " has ", vocab);
  // An imported model without max_position_embeddings has max_len 0: no limit known.
  DISTILL_CHECK(max_len <= 0 || calibration.seq_len <= max_len, "--calibration ", calibration.dir, ": sequences of ",
                calibration.seq_len, " tokens, longer than the model's max_len ", max_len, " (", path, ")");
  if (builtin) return builtinBlocks(model);
  if (hf_decoder) return hfDecoderBlocks(model);
  return bert ? bertBlocks(model) : gpt2Blocks(model);
}

}  // namespace distill::prune
