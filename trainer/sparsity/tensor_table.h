// Per-parameter state of a criterion or gradient mask, kept in selection
// order so checkpoints and checksums list it the same way on every worker.
//
//   TensorTable scores("movement/scores/");
//   scores.add("layer0.ff1_weight", torch::zeros_like(w));
//   scores.at("layer0.ff1_weight").sub_(g * w);
//   ckpt_tensors = scores.list();   // names "movement/scores/layer0.ff1_weight"
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "trainer/sparsity/named_tensor.h"

namespace distill::sparsity {

class TensorTable {
 public:
  explicit TensorTable(std::string prefix) : prefix_(std::move(prefix)) {}
  void add(const std::string& param, torch::Tensor tensor) {
    index_[param] = list_.size();
    list_.push_back({prefix_ + param, std::move(tensor)});
  }
  torch::Tensor& at(const std::string& param) {
    const auto it = index_.find(param);
    DISTILL_ASSERT(it != index_.end(), "no ", prefix_, " state for parameter ", param);
    return list_[it->second].tensor;
  }
  const torch::Tensor& at(const std::string& param) const { return const_cast<TensorTable*>(this)->at(param); }
  bool has(const std::string& param) const { return index_.count(param) > 0; }
  const std::vector<NamedTensor>& list() const { return list_; }

 private:
  std::string prefix_;
  std::vector<NamedTensor> list_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace distill::sparsity
