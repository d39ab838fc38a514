// LibTorch tensors to and from safetensors files (common/safetensors.h).
// Used by checkpoints, the teacher cache and the exported student.
//
//   data::saveTensors("ckpt/model.safetensors", {{"w", w}, {"mask.w", m}}, {{"step", "100"}});
//   std::map<std::string, at::Tensor> t = data::loadTensors("ckpt/model.safetensors");
//
// Supported dtypes: float64/32/16, bfloat16, int64/32/16/8, uint8, bool.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>  // lighter than <torch/torch.h>; enough for the signatures
#include <c10/core/ScalarType.h>

#include "common/safetensors.h"

namespace distill::data {

// Writes the tensors (any device, any strides: they are copied to contiguous
// CPU memory) atomically to path. Throws distill::Error naming the tensor for
// an unsupported dtype or a repeated name.
void saveTensors(const std::string& path,
                 const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                 const std::map<std::string, std::string>& metadata = {});

// Reads every tensor of a safetensors file into owned CPU tensors.
std::map<std::string, at::Tensor> loadTensors(const std::string& path);
// Only the tensors named in `only` that the file has (the others stay unread in the map).
std::map<std::string, at::Tensor> loadTensors(const std::string& path, const std::set<std::string>& only);

// Copies one tensor out of an open file into an owned CPU tensor.
at::Tensor toTensor(const safetensors::TensorView& view);

// The safetensors dtype of a LibTorch dtype and back; throw distill::Error
// for dtypes the format (or we) do not support.
safetensors::DType toSafetensorsDType(c10::ScalarType dtype);
c10::ScalarType toScalarType(safetensors::DType dtype);

}  // namespace distill::data
