// Activation checkpointing: the same outputs and gradients as the plain
// forward, with dropout on (the recomputation replays the same masks) and
// under bf16 autocast (the recomputation runs in the forward's precision).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/model/activation_checkpointing.h"
#include "trainer/model/builtin.h"
#include "trainer/precision/precision_policy.h"

namespace distill::model {
namespace {

struct Result {
  torch::Tensor logits, hidden;
  std::vector<torch::Tensor> grads;
};

Result step(torch::jit::Module& m, bool checkpointed, const std::string& precision) {
  const torch::Tensor ids = torch::arange(2 * 12, torch::kLong).reshape({2, 12}) % 64;
  torch::Tensor mask = torch::ones({2, 12}, torch::kLong);
  mask[1].narrow(0, 8, 4).fill_(0);  // padding in the batch
  auto params = namedParameters(m);
  for (auto& p : params) p.tensor.mutable_grad() = torch::Tensor();
  torch::manual_seed(7);  // the same dropout stream for both paths
  auto policy = precision::makePrecisionPolicy(precision, c10::Device(c10::DeviceType::CPU));
  ModelOutputs out;
  {
    auto region = policy->studentRegion();
    out = checkpointed ? runCheckpointed(m, ids, mask, "student") : runModel(m, ids, mask, "student");
  }
  (out.logits.to(torch::kFloat).square().mean() + out.hidden_states.to(torch::kFloat).square().mean() +
   out.attentions.to(torch::kFloat).mean())
      .backward();
  Result r{out.logits.detach(), out.hidden_states.detach(), {}};
  for (auto& p : params) r.grads.push_back(p.tensor.grad().clone());
  return r;
}

void expectSame(torch::jit::Module& m, const std::string& precision) {
  const Result plain = step(m, false, precision);
  const Result checkpointed = step(m, true, precision);
  EXPECT_TRUE(torch::allclose(plain.logits, checkpointed.logits, 0, 1e-6));
  EXPECT_TRUE(torch::allclose(plain.hidden, checkpointed.hidden, 0, 1e-6));
  const auto names = namedParameters(m);
  for (size_t i = 0; i < plain.grads.size(); ++i) {
    EXPECT_LT((plain.grads[i] - checkpointed.grads[i]).abs().max().item<double>(), 1e-6) << names[i].name;
  }
}

TEST(ActivationCheckpointing, SameGradientsWithDropoutEncoderAndDecoder) {
  TransformerSize size;
  size.dropout = 0.2;
  auto encoder = buildEncoderClassifier(size, 4, 3);
  ASSERT_TRUE(supportsActivationCheckpointing(encoder));
  expectSame(encoder, "fp32");
  auto decoder = buildDecoderLM(size, 4);
  expectSame(decoder, "fp32");
}

TEST(ActivationCheckpointing, RecomputesInTheForwardsPrecision) {
  if (!precision::cpuHasNativeBf16()) GTEST_SKIP() << "this CPU has no native bf16";
  TransformerSize size;
  size.dropout = 0.1;
  auto m = buildEncoderClassifier(size, 4, 5);
  expectSame(m, "bf16");
}

TEST(ActivationCheckpointing, OtherModelsAreRefusedByName) {
  torch::jit::Module plain("Plain");
  plain.define("def forward(self, x: Tensor, m: Tensor) -> Dict[str, Tensor]:\n    return {'logits': x.float()}\n");
  EXPECT_FALSE(supportsActivationCheckpointing(plain));
  try {
    runCheckpointed(plain, torch::zeros({1, 2}, torch::kLong), torch::ones({1, 2}, torch::kLong), "student");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("runtime.activation_checkpointing: model student is not a built-in"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace distill::model
