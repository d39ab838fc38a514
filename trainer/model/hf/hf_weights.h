// The weights of a Hugging Face checkpoint directory: `model.safetensors`, or
// the shards listed in `model.safetensors.index.json`. Tensors are read one at
// a time, by name, converted to the import dtype, and checked against the
// shape the architecture needs; at the end, a tensor nobody took is an error
// (a variant of the family this importer does not implement), except the
// buffers transformers itself leaves in old files.
//
//   HfWeights weights(dir, torch::kFloat32);
//   torch::Tensor w = weights.take("model.embed_tokens.weight", {vocab, d});
//   weights.checkAllTaken();
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "common/safetensors.h"

namespace distill::model::hf {

class HfWeights {
 public:
  HfWeights(std::string dir, c10::ScalarType dtype);

  bool has(const std::string& name) const { return file_of_.count(name) > 0; }
  // The tensor, as `dtype`, [shape]: errors name the file and the tensor when it is missing or mis-shaped.
  at::Tensor take(const std::string& name, at::IntArrayRef shape);
  // Throws distill::Error listing the tensors no `take` asked for.
  void checkAllTaken() const;

  c10::ScalarType dtype() const { return dtype_; }
  // The dtypes of the tensors taken, as stored, e.g. "BF16"; the import logs a conversion.
  const std::set<std::string>& storedDtypes() const { return stored_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  c10::ScalarType dtype_;
  std::map<std::string, safetensors::File> files_;  // path -> the mapped file
  std::map<std::string, std::string> file_of_;      // tensor name -> file path
  std::set<std::string> taken_;
  std::set<std::string> stored_;
};

}  // namespace distill::model::hf
