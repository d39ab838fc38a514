// Precision policies: what each converts, and that a bf16 student step stays
// close to the fp32 step while its parameters and gradients stay fp32.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error.h"
#include "trainer/model/builtin.h"
#include "trainer/model/model_io.h"
#include "trainer/precision/precision_policy.h"

namespace distill::precision {
namespace {

const c10::Device kCpu(c10::DeviceType::CPU);

std::string errorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(PrecisionPolicy, NamesAndRefusals) {
  EXPECT_EQ(makePrecisionPolicy("fp32", kCpu)->name(), "fp32");
  EXPECT_NE(errorOf([] { makePrecisionPolicy("fp16", kCpu); }).find("runtime.precision: fp16 runs on CUDA only"),
            std::string::npos);
  EXPECT_NE(errorOf([] { makePrecisionPolicy("int8", kCpu); }).find("runtime.precision: unknown precision \"int8\""),
            std::string::npos);
  if (!cpuHasNativeBf16()) {
    EXPECT_NE(errorOf([] { makePrecisionPolicy("bf16", kCpu); }).find("AVX512-BF16 or AMX-BF16"), std::string::npos);
  }
}

// One forward and backward of a built-in classifier; returns the logits and the gradient of every parameter.
struct Step {
  torch::Tensor logits;
  std::vector<torch::Tensor> grads;
};

Step runStep(torch::jit::Module& m, PrecisionPolicy& policy, const torch::Tensor& ids, const torch::Tensor& mask) {
  auto params = model::namedParameters(m);
  for (auto& p : params) p.tensor.mutable_grad() = torch::Tensor();
  model::ModelOutputs out;
  {
    auto region = policy.studentRegion();
    out = model::runModel(m, ids, mask, "student");
  }
  torch::Tensor loss = out.logits.to(torch::kFloat).logsumexp(-1).sum();
  policy.scaleLoss(loss).backward();
  Step s{out.logits.detach(), {}};
  for (auto& p : params) s.grads.push_back(p.tensor.grad());
  return s;
}

TEST(PrecisionPolicy, Bf16StudentStepIsCloseToFp32WithFp32Gradients) {
  if (!cpuHasNativeBf16()) GTEST_SKIP() << "this CPU has no native bf16; the refusal is tested above";
  model::TransformerSize size;
  size.dropout = 0.0;
  auto m = model::buildEncoderClassifier(size, 4, 11);
  const torch::Tensor ids = torch::randint(0, size.vocab_size, {3, 16}, torch::kLong);
  const torch::Tensor mask = torch::ones({3, 16}, torch::kLong);
  auto fp32 = makePrecisionPolicy("fp32", kCpu);
  auto bf16 = makePrecisionPolicy("bf16", kCpu);
  const Step a = runStep(m, *fp32, ids, mask);
  const Step b = runStep(m, *bf16, ids, mask);
  EXPECT_EQ(a.logits.scalar_type(), torch::kFloat);
  EXPECT_EQ(b.logits.scalar_type(), torch::kBFloat16);  // the head's linear ran in bf16
  EXPECT_LT((a.logits - b.logits.to(torch::kFloat)).abs().max().item<double>(), 0.05);
  for (size_t i = 0; i < a.grads.size(); ++i) {
    ASSERT_TRUE(b.grads[i].defined());
    EXPECT_EQ(b.grads[i].scalar_type(), torch::kFloat);  // fp32 master weights get fp32 gradients
    const double scale = a.grads[i].abs().max().item<double>() + 1e-3;
    EXPECT_LT((a.grads[i] - b.grads[i]).abs().max().item<double>() / scale, 0.1) << "parameter " << i;
  }
  // After the region the autocast cache is gone: a plain forward computes in fp32 again.
  EXPECT_EQ(model::runModel(m, ids, mask, "student").logits.scalar_type(), torch::kFloat);
}

TEST(PrecisionPolicy, Bf16TeachersAreConvertedOnce) {
  if (!cpuHasNativeBf16()) GTEST_SKIP() << "this CPU has no native bf16";
  model::TransformerSize size;
  auto teacher = model::buildEncoderClassifier(size, 4, 12);
  makePrecisionPolicy("bf16", kCpu)->prepareTeacher(teacher);
  for (const auto& p : model::namedParameters(teacher)) EXPECT_EQ(p.tensor.scalar_type(), torch::kBFloat16) << p.name;
  auto fp32_teacher = model::buildEncoderClassifier(size, 4, 12);
  makePrecisionPolicy("fp32", kCpu)->prepareTeacher(fp32_teacher);
  for (const auto& p : model::namedParameters(fp32_teacher)) EXPECT_EQ(p.tensor.scalar_type(), torch::kFloat) << p.name;
}

}  // namespace
}  // namespace distill::precision
