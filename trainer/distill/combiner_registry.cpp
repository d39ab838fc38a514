// The combiners the config can name. Adding one: one line in kCombiners.
#include <functional>
#include <utility>

#include "common/error.h"
#include "trainer/distill/amalgamation_combiner.h"
#include "trainer/distill/combiner.h"
#include "trainer/distill/competency_combiner.h"
#include "trainer/distill/confidence_combiner.h"
#include "trainer/distill/fixed_weights_combiner.h"
#include "trainer/distill/mc_dropout_combiner.h"
#include "trainer/distill/mean_combiner.h"

namespace distill::kd {
namespace {

using Factory = std::function<std::unique_ptr<TeacherCombiner>(const config::DistillSpec&)>;

const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> kCombiners = {
      {"mean", [](const config::DistillSpec&) { return std::make_unique<MeanCombiner>(); }},
      {"weights", [](const config::DistillSpec& s) { return std::make_unique<FixedWeightsCombiner>(s); }},
      {"confidence", [](const config::DistillSpec& s) {
         return std::make_unique<ConfidenceCombiner>(s.temperature(), s.confidence_temperature()); }},
      {"mc_dropout", [](const config::DistillSpec& s) {
         return std::make_unique<McDropoutCombiner>(s.temperature(), s.mc_dropout()); }},
      {"competency", [](const config::DistillSpec& s) {
         return std::make_unique<CompetencyCombiner>(s.temperature(), s.competency().temperature()); }},
      {"amalgamation", [](const config::DistillSpec& s) { return std::make_unique<AmalgamationCombiner>(s); }},
  };
  return kCombiners;
}

}  // namespace

std::unique_ptr<TeacherCombiner> makeCombiner(const config::DistillSpec& spec) {
  for (const auto& [name, factory] : registry()) {
    if (name == spec.combiner()) return factory(spec);
  }
  std::string known;
  for (const std::string& name : combinerNames()) known += (known.empty() ? "" : ", ") + name;
  DISTILL_FAIL("distill.combiner: unknown combiner '", spec.combiner(), "'; known: ", known);
}

std::vector<std::string> combinerNames() {
  std::vector<std::string> names;
  for (const auto& entry : registry()) names.push_back(entry.first);
  return names;
}

}  // namespace distill::kd
