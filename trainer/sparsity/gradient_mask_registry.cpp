// The gradient masks the config can name. Adding one: one line in kGradientMasks.
#include <functional>
#include <utility>

#include "common/error.h"
#include "trainer/sparsity/child_tuning_d.h"
#include "trainer/sparsity/child_tuning_f.h"
#include "trainer/sparsity/criterion.h"
#include "trainer/sparsity/gradient_mask.h"
#include "trainer/sparsity/parameter_selection.h"

namespace distill::sparsity {
namespace {

using Spec = config::GradientMaskSpec;
using Factory = std::function<std::unique_ptr<GradientMask>(const Spec&, std::vector<NamedTensor>, uint64_t)>;

const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> kGradientMasks = {
      {"child_tuning_f", [](const Spec& s, std::vector<NamedTensor> p, uint64_t seed) {
         return std::make_unique<ChildTuningF>(std::move(p), s.keep(), seed); }},
      {"child_tuning_d", [](const Spec& s, std::vector<NamedTensor> p, uint64_t) {
         return std::make_unique<ChildTuningD>(std::move(p), s.keep(), s.fisher_batches()); }},
  };
  return kGradientMasks;
}

}  // namespace

void GradientMask::load(const std::map<std::string, torch::Tensor>& saved, const std::string& file) {
  copyByName(saved, state(), file);
}

std::unique_ptr<GradientMask> makeGradientMask(const config::GradientMaskSpec& spec,
                                               const std::vector<NamedTensor>& params, uint64_t seed) {
  if (spec.kind().empty()) return nullptr;
  std::vector<NamedTensor> picked =
      selectParameters(params, spec.include(), spec.exclude(), "sparsity.gradient_mask");
  DISTILL_CHECK(!picked.empty(), "sparsity.gradient_mask: include/exclude select none of the model's ",
                params.size(), " parameters");
  std::string known;
  for (const auto& [name, factory] : registry()) {
    if (name == spec.kind()) return factory(spec, std::move(picked), seed);
    known += (known.empty() ? "" : ", ") + name;
  }
  DISTILL_FAIL("sparsity.gradient_mask.kind: unknown gradient mask '", spec.kind(), "'; known: ", known);
}

}  // namespace distill::sparsity
