// The importance criteria the config can name. Adding one: one line in kCriteria.
#include <functional>
#include <utility>

#include "common/error.h"
#include "trainer/sparsity/criterion.h"
#include "trainer/sparsity/magnitude_criterion.h"

namespace distill::sparsity {
namespace {

using Factory = std::function<std::unique_ptr<ImportanceCriterion>(const config::SparsitySpec&)>;

const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> kCriteria = {
      {"magnitude", [](const config::SparsitySpec&) { return std::make_unique<MagnitudeCriterion>(); }},
  };
  return kCriteria;
}

}  // namespace

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

}  // namespace distill::sparsity
