// The architecture tables of distill prune (trainer/prune/prunable_blocks.h):
// for every architecture prune knows, a block's linear_inputs must be the
// inputs its forward really gives its linear layers. Checked through the
// residual stream: forward(x) = x + o(context) + down(act), so the inputs
// returned for the attention output and the last FFN layer rebuild the
// forward's output; and every linear the table names exists with the width
// of its input. Bad models and calibration data are named.
#include <gtest/gtest.h>

#include <functional>
#include <torch/torch.h>

#include "../expect_error.h"
#include "common/error.h"
#include "trainer/model/builtin.h"
#include "trainer/model/hf/hf_import.h"
#include "trainer/prune/prunable_blocks.h"

namespace distill::prune {
namespace {

using distill::testing::expectError;

std::string fixture(const std::string& name) { return std::string(DISTILL_SOURCE_DIR) + "/tests/fixtures/hf/" + name; }

data::DatasetManifest calibration(int64_t vocab, int64_t seq_len) {
  data::DatasetManifest m;
  m.dir = "calib";
  m.vocab_size = vocab;
  m.seq_len = seq_len;
  return m;
}

data::Batch batch(int64_t vocab) {
  torch::manual_seed(4);
  data::Batch b;
  b.input_ids = torch::randint(vocab, {3, 10}, torch::kLong);
  b.attention_mask = torch::ones({3, 10}, torch::kLong);
  b.attention_mask.index_put_({1, torch::indexing::Slice(6)}, 0);  // padding
  b.labels = b.input_ids.clone();
  return b;
}

torch::Tensor linear(torch::jit::Module& block, const std::string& name, const torch::Tensor& in) {
  const std::string bias = name + "_bias";
  return torch::linear(in, block.attr(name + "_weight").toTensor(),
                       block.hasattr(bias) ? block.attr(bias).toTensor() : torch::Tensor());
}

// How a block's output is made of its linear inputs `list` and its input x.
using Rebuild = std::function<torch::Tensor(torch::jit::Module& block, const torch::Tensor& x,
                                            const c10::List<torch::Tensor>& list)>;

// Pre-LayerNorm: x + out(context) + down(activation), `out` and `down` the
// names of the attention output and last FFN linear.
Rebuild residual(const char* out, const char* down) {
  return [out, down](torch::jit::Module& block, const torch::Tensor& x, const c10::List<torch::Tensor>& list) {
    return x + linear(block, out, list.get(1)) + linear(block, down, list.get(list.size() - 1));
  };
}

void expectInputsRebuildForward(torch::jit::Module model, const Rebuild& rebuild) {
  c10::InferenceMode inference;
  model.eval();
  const int64_t vocab = model.attr("vocab_size").toInt();
  const PrunableBlocks blocks = prunableBlocks(model, "model.pt", calibration(vocab, 10));
  ASSERT_EQ(blocks.layers, model.attr("num_layers").toInt());
  std::vector<c10::IValue> args = blocks.first_arguments(batch(vocab));
  for (int64_t i = 0; i < blocks.layers; ++i) {
    torch::jit::Module block = model.attr("layer" + std::to_string(i)).toModule();
    blocks.define(block);
    const auto list = block.get_method("linear_inputs")(args).toTensorList();
    ASSERT_EQ(list.size(), blocks.inputs);
    for (const auto& l : blocks.linears) {
      ASSERT_TRUE(block.hasattr(l.weight)) << l.weight;
      EXPECT_EQ(block.attr(l.weight).toTensor().size(1), list.get(l.input).size(-1)) << l.weight;
    }
    const torch::Tensor x = args[0].toTensor();
    const torch::Tensor rebuilt = rebuild(block, x, list);
    const torch::Tensor next = block.forward(args).toTupleRef().elements()[0].toTensor();
    EXPECT_TRUE(torch::allclose(rebuilt, next, 1e-5, 1e-5)) << "layer " << i << ": max difference "
                                                            << (rebuilt - next).abs().max().item<double>();
    args[0] = next;
  }
}

TEST(PrunableBlocks, BuiltInDecoderAndEncoder) {
  model::TransformerSize size;
  size.dropout = 0;
  expectInputsRebuildForward(model::buildDecoderLM(size, 3), residual("out", "ff2"));
  expectInputsRebuildForward(model::buildEncoderClassifier(size, 2, 3), residual("out", "ff2"));
}

TEST(PrunableBlocks, HuggingFaceDecoders) {
  for (const char* family : {"llama", "qwen2", "mistral"}) {  // qwen2: q/k/v biases
    SCOPED_TRACE(family);
    expectInputsRebuildForward(model::hf::importHf(fixture(family), torch::kFloat32), residual("o", "down"));
  }
}

TEST(PrunableBlocks, HuggingFaceGpt2AndBert) {
  expectInputsRebuildForward(model::hf::importHf(fixture("gpt2"), torch::kFloat32), residual("out", "ff2"));
  // Post-LayerNorm: LN2(x1 + ff2(activation)), x1 = LN1(x + out(context)) the FFN's input.
  const Rebuild post_norm = [](torch::jit::Module& block, const torch::Tensor& x, const c10::List<torch::Tensor>& list) {
    auto norm = [&](const torch::Tensor& t, const char* ln) {
      return block.run_method("norm", t, block.attr(std::string(ln) + "_weight"), block.attr(std::string(ln) + "_bias"))
          .toTensor();
    };
    EXPECT_TRUE(torch::allclose(norm(x + linear(block, "out", list.get(1)), "ln1"), list.get(2), 1e-5, 1e-5));
    return norm(list.get(2) + linear(block, "ff2", list.get(3)), "ln2");
  };
  for (const char* family : {"bert", "bert_model"}) {
    SCOPED_TRACE(family);
    expectInputsRebuildForward(model::hf::importHf(fixture(family), torch::kFloat32), post_norm);
  }
}

TEST(PrunableBlocks, BadModelsAndDataAreNamed) {
  model::TransformerSize size;
  torch::jit::Module model = model::buildDecoderLM(size, 3);
  expectError([&] { prunableBlocks(model, "lm.pt", calibration(80, 10)); },
              {"its vocabulary has 80 entries, the model lm.pt has 64"});
  expectError([&] { prunableBlocks(model, "lm.pt", calibration(64, 33)); }, {"sequences of 33 tokens", "max_len 32"});
  torch::jit::Module plain("__torch__.Plain");
  plain.register_attribute("distill_arch", c10::StringType::get(), std::string("hf-t5"));
  expectError([&] { prunableBlocks(plain, "t5.pt", calibration(0, 10)); },
              {"t5.pt: distill prune prunes", "this model is a hf-t5"});
}

}  // namespace
}  // namespace distill::prune
