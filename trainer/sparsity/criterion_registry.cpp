// The importance criteria the config can name. Adding one: one line in kCriteria.
#include <functional>
#include <utility>

#include "common/error.h"
#include "trainer/sparsity/criterion.h"
#include "trainer/sparsity/fisher_criterion.h"
#include "trainer/sparsity/learned_mask_criterion.h"
#include "trainer/sparsity/magnitude_criterion.h"
#include "trainer/sparsity/movement_criterion.h"
#include "trainer/sparsity/pst_criterion.h"
#include "trainer/sparsity/soft_movement_criterion.h"
#include "trainer/sparsity/taylor_criterion.h"

namespace distill::sparsity {
namespace {

using Spec = config::SparsitySpec;
using Factory = std::function<std::unique_ptr<ImportanceCriterion>(const Spec&)>;

const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> kCriteria = {
      {"magnitude", [](const Spec&) { return std::make_unique<MagnitudeCriterion>(); }},
      {"taylor", [](const Spec&) { return std::make_unique<TaylorCriterion>(); }},
      {"fisher", [](const Spec&) { return std::make_unique<FisherCriterion>(); }},
      {"movement", [](const Spec&) { return std::make_unique<MovementCriterion>(); }},
      {"soft_movement", [](const Spec& s) {
         return std::make_unique<SoftMovementCriterion>(s.threshold(), s.score_init(), s.score_lr(), s.regularizer()); }},
      {"pst", [](const Spec& s) { return std::make_unique<PstCriterion>(PstOptions::from(s)); }},
      {"learned", [](const Spec& s) {
         return std::make_unique<LearnedMaskCriterion>(s.threshold(), s.score_init(), s.score_lr()); }},
  };
  return kCriteria;
}

}  // namespace

torch::Tensor ImportanceCriterion::effectiveWeight(const std::string& param_name) const {
  DISTILL_ASSERT(false, "criterion '", name(), "' does not freeze weights; no effective weight for ", param_name);
  return {};
}

void ImportanceCriterion::load(const std::map<std::string, torch::Tensor>& saved, const std::string& file) {
  copyByName(saved, state(), file);
}

std::unique_ptr<ImportanceCriterion> makeCriterion(const config::SparsitySpec& spec) {
  for (const auto& [name, factory] : registry()) {
    if (name == spec.criterion()) return factory(spec);
  }
  std::string known;
  for (const std::string& name : criterionNames()) known += (known.empty() ? "" : ", ") + name;
  DISTILL_FAIL("sparsity.criterion: unknown criterion '", spec.criterion(), "'; known: ", known);
}

std::vector<std::string> criterionNames() {
  std::vector<std::string> names;
  for (const auto& entry : registry()) names.push_back(entry.first);
  return names;
}

void copyByName(const std::map<std::string, torch::Tensor>& saved, const std::vector<NamedTensor>& live,
                const std::string& file) {
  torch::NoGradGuard no_grad;
  for (const auto& t : live) {
    const auto it = saved.find(t.name);
    DISTILL_CHECK(it != saved.end(), file, ": tensor \"", t.name,
                  "\" is missing: the checkpoint was written with another sparsity configuration");
    DISTILL_CHECK(it->second.sizes() == t.tensor.sizes(), file, ": tensor \"", t.name, "\" has shape ",
                  it->second.sizes(), ", expected ", t.tensor.sizes());
    t.tensor.copy_(it->second);
  }
}

int64_t bytesOf(const std::vector<NamedTensor>& tensors) {
  int64_t bytes = 0;
  for (const auto& t : tensors) bytes += t.tensor.numel() * static_cast<int64_t>(t.tensor.element_size());
  return bytes;
}

}  // namespace distill::sparsity
