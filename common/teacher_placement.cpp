#include "common/teacher_placement.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace distill::placement {
namespace {

std::string gigabytes(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f GB", bytes / 1e9);
  return text;
}

}  // namespace

std::string cacheRefusal(const config::DistillSpec& spec) {
  if (spec.terms_size() > 0) {
    return "distill.terms read the teachers' hidden states and attentions, which a top-k cache does not hold";
  }
  if (spec.combiner() == "mc_dropout") {
    return "the mc_dropout combiner needs distill.mc_dropout.passes stochastic teacher passes per batch; a cache holds "
           "one deterministic pass";
  }
  return "";
}

Plan plan(const config::JobConfig& cfg, const Inputs& in) {
  const config::DistillSpec& d = cfg.distill();
  if (d.teachers_size() == 0) return {"none", "no teachers"};
  const std::string chosen = d.placement().empty() ? "auto" : d.placement();
  if (chosen != "auto") return {chosen, "distill.placement: " + chosen};
  if (const std::string refusal = cacheRefusal(d); !refusal.empty()) return {"replicate", refusal};
  const bool all_cached = !in.cache_complete.empty() &&
                          std::all_of(in.cache_complete.begin(), in.cache_complete.end(), [](bool b) { return b; });
  if (all_cached) return {"cache", "every teacher's cache is complete for this dataset and k: training reads it"};
  const double teachers = std::accumulate(in.teacher_bytes.begin(), in.teacher_bytes.end(), 0.0);
  // The student's training state: weights, gradients and AdamW's two moments.
  const double student = 4.0 * static_cast<double>(in.student_bytes);
  const double budget = cfg.runtime().memory_budget_gb() * 1e9;
  if (budget > 0 && teachers + student > budget) {
    return {"cache", "teachers (" + gigabytes(teachers) + ") beside the student's training state (" + gigabytes(student) +
                         ") exceed runtime.memory_budget_gb (" + gigabytes(budget) +
                         "): the teacher pass runs them before training, one at a time"};
  }
  if (in.epochs >= 2) {
    char text[160];
    std::snprintf(text, sizeof text,
                  "%.1f epochs: one teacher pass replaces a teacher forward per sample in every epoch after the first",
                  in.epochs);
    return {"cache", text};
  }
  return {"replicate", "one epoch: a cache would cost as many teacher forwards as it saves"};
}

}  // namespace distill::placement
