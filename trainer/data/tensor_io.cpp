#include "trainer/data/tensor_io.h"

#include <torch/torch.h>

#include <cstring>
#include <set>

#include "common/error.h"

namespace distill::data {

using safetensors::DType;

safetensors::DType toSafetensorsDType(c10::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat64: return DType::F64;
    case torch::kFloat32: return DType::F32;
    case torch::kFloat16: return DType::F16;
    case torch::kBFloat16: return DType::BF16;
    case torch::kInt64: return DType::I64;
    case torch::kInt32: return DType::I32;
    case torch::kInt16: return DType::I16;
    case torch::kInt8: return DType::I8;
    case torch::kUInt8: return DType::U8;
    case torch::kBool: return DType::BOOL;
    default:
      DISTILL_FAIL("dtype ", c10::toString(dtype), " cannot be stored in safetensors here",
                   " (supported: float64/32/16, bfloat16, int64/32/16/8, uint8, bool)");
  }
}

c10::ScalarType toScalarType(safetensors::DType dtype) {
  switch (dtype) {
    case DType::F64: return torch::kFloat64;
    case DType::F32: return torch::kFloat32;
    case DType::F16: return torch::kFloat16;
    case DType::BF16: return torch::kBFloat16;
    case DType::I64: return torch::kInt64;
    case DType::I32: return torch::kInt32;
    case DType::I16: return torch::kInt16;
    case DType::I8: return torch::kInt8;
    case DType::U8: return torch::kUInt8;
    case DType::BOOL: return torch::kBool;
  }
  DISTILL_FAIL("unknown safetensors dtype ", int(dtype));
}

void saveTensors(const std::string& path,
                 const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                 const std::map<std::string, std::string>& metadata) {
  safetensors::Writer writer;
  for (const auto& [name, tensor] : tensors) {
    DISTILL_CHECK(tensor.defined(), path, ": tensor '", name, "' is undefined");
    DType dtype;
    try {
      dtype = toSafetensorsDType(tensor.scalar_type());
    } catch (const Error& e) {
      DISTILL_FAIL(path, ": tensor '", name, "': ", e.what());
    }
    // Detach and copy: gradients and views play no part in what is stored.
    at::Tensor cpu = tensor.detach().to(torch::kCPU).contiguous();
    std::vector<int64_t> shape(cpu.sizes().begin(), cpu.sizes().end());
    size_t nbytes = size_t(cpu.numel()) * cpu.element_size();
    try {
      writer.add(name, dtype, std::move(shape), cpu.data_ptr(), nbytes);
    } catch (const Error& e) {
      DISTILL_FAIL(path, ": ", e.what());
    }
  }
  for (const auto& [key, value] : metadata) writer.setMetadata(key, value);
  writer.write(path);
}

at::Tensor toTensor(const safetensors::TensorView& view) {
  // Bytes are copied (not wrapped with from_blob) so the tensor outlives the map
  // and is aligned whatever the file's layout.
  at::Tensor t = torch::empty(view.shape, torch::TensorOptions().dtype(toScalarType(view.dtype)));
  DISTILL_ASSERT(size_t(t.numel()) * t.element_size() == view.nbytes);
  if (view.nbytes > 0) std::memcpy(t.data_ptr(), view.data, view.nbytes);
  return t;
}

std::map<std::string, at::Tensor> loadTensors(const std::string& path) {
  safetensors::File file = safetensors::File::open(path);
  std::map<std::string, at::Tensor> out;
  for (const auto& name : file.names()) out.emplace(name, toTensor(file.get(name)));
  return out;
}

std::map<std::string, at::Tensor> loadTensors(const std::string& path, const std::set<std::string>& only) {
  safetensors::File file = safetensors::File::open(path);
  std::map<std::string, at::Tensor> out;
  for (const auto& name : only) {
    if (file.has(name)) out.emplace(name, toTensor(file.get(name)));
  }
  return out;
}

}  // namespace distill::data
