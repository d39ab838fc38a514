#include "trainer/data/tensor_io.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "../scratch_dir.h"
#include "common/error.h"

namespace distill::data {
namespace {

using distill::testing::ScratchDir;

TEST(TensorIo, DTypeMappingBothWays) {
  const std::vector<std::pair<c10::ScalarType, safetensors::DType>> pairs = {
      {torch::kFloat64, safetensors::DType::F64}, {torch::kFloat32, safetensors::DType::F32},
      {torch::kFloat16, safetensors::DType::F16}, {torch::kBFloat16, safetensors::DType::BF16},
      {torch::kInt64, safetensors::DType::I64},   {torch::kInt32, safetensors::DType::I32},
      {torch::kInt16, safetensors::DType::I16},   {torch::kInt8, safetensors::DType::I8},
      {torch::kUInt8, safetensors::DType::U8},    {torch::kBool, safetensors::DType::BOOL}};
  for (auto [scalar, st] : pairs) {
    EXPECT_EQ(toSafetensorsDType(scalar), st);
    EXPECT_EQ(toScalarType(st), scalar);
  }
  EXPECT_THROW(toSafetensorsDType(torch::kComplexFloat), Error);
}

TEST(TensorIo, RoundTripEveryDTypeAndMetadata) {
  ScratchDir dir;
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  const std::vector<c10::ScalarType> dtypes = {torch::kFloat64, torch::kFloat32, torch::kFloat16,
                                               torch::kBFloat16, torch::kInt64,  torch::kInt32,
                                               torch::kInt16,   torch::kInt8,    torch::kUInt8};
  // |-3 .. 8| fits every dtype exactly, unsigned ones included.
  for (auto dtype : dtypes)
    tensors.push_back({std::string(c10::toString(dtype)),
                       torch::arange(-3, 9, torch::kFloat64).abs().reshape({3, 4}).to(dtype)});
  tensors.push_back({"bool", torch::tensor({true, false, true})});
  tensors.push_back({"scalar", torch::tensor(2.5)});
  tensors.push_back({"empty", torch::zeros({0, 5})});
  // A strided view (transpose) is stored by value, not by storage.
  tensors.push_back({"transposed", torch::arange(6, torch::kFloat32).reshape({2, 3}).t()});
  saveTensors(dir.path("t.safetensors"), tensors, {{"step", "7"}});

  auto loaded = loadTensors(dir.path("t.safetensors"));
  ASSERT_EQ(loaded.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    ASSERT_TRUE(loaded.count(name)) << name;
    EXPECT_EQ(loaded[name].scalar_type(), t.scalar_type()) << name;
    EXPECT_EQ(loaded[name].sizes(), t.sizes()) << name;
    EXPECT_TRUE(torch::equal(loaded[name], t)) << name;
  }
  EXPECT_FLOAT_EQ(loaded["transposed"][0][1].item<float>(), 3.0f);
  EXPECT_FLOAT_EQ(loaded["BFloat16"][2][3].item<float>(), 8.0f);
  EXPECT_EQ(safetensors::File::open(dir.path("t.safetensors")).metadata().at("step"), "7");
}

TEST(TensorIo, LoadedTensorsOwnTheirMemory) {
  ScratchDir dir;
  saveTensors(dir.path("a.safetensors"), {{"w", torch::ones({4})}});
  auto loaded = loadTensors(dir.path("a.safetensors"));
  std::filesystem::remove(dir.path("a.safetensors"));  // unmapped by now
  loaded["w"].add_(1);
  EXPECT_TRUE(torch::equal(loaded["w"], torch::full({4}, 2.0f)));
}

TEST(TensorIo, ErrorsNameFileAndTensor) {
  ScratchDir dir;
  const std::string path = dir.path("bad.safetensors");
  try {
    saveTensors(path, {{"ok", torch::ones({2})}, {"cplx", torch::zeros({2}, torch::kComplexFloat)}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cplx"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(saveTensors(path, {{"a", torch::ones({2})}, {"a", torch::ones({2})}}), Error);
  EXPECT_THROW(loadTensors(dir.path("missing.safetensors")), Error);
}

}  // namespace
}  // namespace distill::data
