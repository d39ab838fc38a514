// The sparsity schedules the config can name. Adding one: one line in kSchedules.
#include <functional>
#include <utility>

#include "common/error.h"
#include "trainer/sparsity/constant_schedule.h"
#include "trainer/sparsity/cubic_schedule.h"
#include "trainer/sparsity/fixed_schedule.h"
#include "trainer/sparsity/iterative_schedule.h"
#include "trainer/sparsity/one_shot_schedule.h"
#include "trainer/sparsity/reverse_cubic_schedule.h"
#include "trainer/sparsity/schedule.h"

namespace distill::sparsity {
namespace {

using Spec = config::SparsitySpec;
using Factory = std::function<std::unique_ptr<SparsitySchedule>(const Spec&, int64_t)>;

const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> kSchedules = {
      {"one_shot", [](const Spec& s, int64_t) {
         return std::make_unique<OneShotSchedule>(s.final_sparsity(), s.warmup_steps()); }},
      {"constant", [](const Spec& s, int64_t) {
         return std::make_unique<ConstantSchedule>(s.final_sparsity(), s.warmup_steps(), s.interval()); }},
      {"iterative", [](const Spec& s, int64_t) {
         return std::make_unique<IterativeSchedule>(s.final_sparsity(), s.iterative_fraction(), s.warmup_steps(),
                                                    s.interval()); }},
      {"cubic", [](const Spec& s, int64_t total) {
         return std::make_unique<CubicSchedule>(s.initial_sparsity(), s.final_sparsity(), s.warmup_steps(),
                                                total - static_cast<int64_t>(s.cooldown_steps()), s.interval()); }},
      {"reverse_cubic", [](const Spec& s, int64_t total) {
         return std::make_unique<ReverseCubicSchedule>(s.initial_sparsity(), s.final_sparsity(), s.warmup_steps(),
                                                       total - static_cast<int64_t>(s.cooldown_steps()), s.interval()); }},
      // The target is the loaded masks' sparsity (the Pruner sets final_sparsity to it).
      {"fixed", [](const Spec& s, int64_t) { return std::make_unique<FixedSchedule>(s.final_sparsity()); }},
  };
  return kSchedules;
}

}  // namespace

std::unique_ptr<SparsitySchedule> makeSchedule(const config::SparsitySpec& spec, int64_t total_steps) {
  for (const auto& [name, factory] : registry()) {
    if (name == spec.schedule()) return factory(spec, total_steps);
  }
  std::string known;
  for (const std::string& name : scheduleNames()) known += (known.empty() ? "" : ", ") + name;
  DISTILL_FAIL("sparsity.schedule: unknown schedule '", spec.schedule(), "'; known: ", known);
}

std::vector<std::string> scheduleNames() {
  std::vector<std::string> names;
  for (const auto& entry : registry()) names.push_back(entry.first);
  return names;
}

}  // namespace distill::sparsity
