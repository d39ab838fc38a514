#include "trainer/sparsity/initial_masks.h"

#include <set>

#include "common/error.h"
#include "trainer/data/tensor_io.h"

namespace distill::sparsity {

std::map<std::string, torch::Tensor> readInitialMasks(const std::string& path) {
  std::map<std::string, torch::Tensor> masks;
  for (auto& [name, t] : data::loadTensors(path)) {
    DISTILL_CHECK(t.scalar_type() == torch::kUInt8 || t.scalar_type() == torch::kBool, "sparsity.masks: ", path,
                  ": tensor \"", name, "\" is ", c10::toString(t.scalar_type()), "; a mask is uint8 or bool (1 = kept)");
    if (t.scalar_type() == torch::kUInt8) {
      DISTILL_CHECK(t.le(1).all().item<bool>(), "sparsity.masks: ", path, ": tensor \"", name,
                    "\" holds values other than 0 and 1");
    }
    masks.emplace(name, t.to(torch::kBool));
  }
  DISTILL_CHECK(!masks.empty(), "sparsity.masks: ", path, " holds no mask");
  return masks;
}

std::string exactPattern(const std::string& name) {
  static const std::string kSpecial = "\\^$.|?*+()[]{}";
  std::string pattern = "^";
  for (char c : name) {
    if (kSpecial.find(c) != std::string::npos) pattern += '\\';
    pattern += c;
  }
  return pattern + "$";
}

void checkInitialMasks(const std::map<std::string, torch::Tensor>& masks, const std::vector<NamedTensor>& params,
                       const std::string& path) {
  std::map<std::string, const torch::Tensor*> by_name;
  for (const auto& p : params) by_name[p.name] = &p.tensor;
  for (const auto& [name, mask] : masks) {
    const auto it = by_name.find(name);
    DISTILL_CHECK(it != by_name.end(), "sparsity.masks: ", path, " has a mask for \"", name,
                  "\", which the student does not have");
    DISTILL_CHECK(mask.sizes() == it->second->sizes(), "sparsity.masks: ", path, ": the mask of \"", name, "\" is ",
                  mask.sizes(), ", the parameter ", it->second->sizes());
  }
}

void checkInitialSelection(const std::map<std::string, torch::Tensor>& masks, const MaskSet& selected,
                           const std::string& path) {
  std::set<std::string> names;
  for (const auto& m : selected.masks()) {
    names.insert(m.name);
    DISTILL_CHECK(masks.count(m.name), "sparsity.masks: ", path, " has no mask for \"", m.name,
                  "\", which sparsity.include/exclude select");
  }
  for (const auto& [name, mask] : masks) {
    DISTILL_CHECK(names.count(name), "sparsity.masks: ", path, " has a mask for \"", name,
                  "\", which sparsity.include/exclude do not select");
  }
}

double sparsityOf(const std::map<std::string, torch::Tensor>& masks) {
  int64_t zeros = 0, total = 0;
  for (const auto& [name, mask] : masks) {
    total += mask.numel();
    zeros += mask.numel() - mask.sum().item<int64_t>();
  }
  return total > 0 ? static_cast<double>(zeros) / static_cast<double>(total) : 0.0;
}

}  // namespace distill::sparsity
