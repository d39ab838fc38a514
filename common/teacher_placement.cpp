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

std::string topKRefusal(const config::DistillSpec& spec) {
  if (spec.terms_size() > 0) {
    return "distill.terms read the teachers' hidden states and attentions, which top-k outputs do not hold";
  }
  if (spec.combiner() == "mc_dropout") {
    return "the mc_dropout combiner needs distill.mc_dropout.passes stochastic teacher passes per batch; top-k "
           "outputs hold one deterministic pass";
  }
  return "";
}

std::string poolProblem(const config::JobConfig& cfg, int teacher_ranks, int workers) {
  const auto& d = cfg.distill();
  const std::string chosen = d.placement().empty() ? "auto" : d.placement();
  const std::string ranks = "--teacher-ranks " + std::to_string(teacher_ranks);
  if (teacher_ranks < 0) return ranks + ": must be 0 or more";
  if (teacher_ranks == 0) {
    return chosen == "pool" && d.teachers_size() > 0
               ? "distill.placement: pool needs teacher ranks: launch with launch/distill-mpirun -n N --teacher-ranks P"
               : "";
  }
  if (d.teachers_size() == 0) return ranks + ": the job has no teachers (distill.teachers is empty) to serve";
  if (chosen != "pool" && chosen != "auto") {
    return ranks + " with distill.placement: " + chosen +
           ": teacher ranks serve placement pool only; set distill.placement to pool or auto, or launch without "
           "--teacher-ranks";
  }
  if (workers < 1) {
    return ranks + " leaves no student worker: of the " + std::to_string(teacher_ranks + workers) +
           " ranks besides the coordinator (-n), at least one must train";
  }
  if (const std::string refusal = topKRefusal(d); !refusal.empty()) return ranks + " (placement pool): " + refusal;
  return "";
}

std::vector<std::vector<uint32_t>> poolAssignment(int teachers, int ranks) {
  std::vector<std::vector<uint32_t>> out(static_cast<size_t>(std::max(ranks, 0)));
  if (teachers <= 0 || ranks <= 0) return out;
  if (ranks >= teachers) {
    for (int r = 0; r < ranks; ++r) out[static_cast<size_t>(r)].push_back(static_cast<uint32_t>(r % teachers));
  } else {
    for (int k = 0; k < teachers; ++k) out[static_cast<size_t>(k % ranks)].push_back(static_cast<uint32_t>(k));
  }
  return out;
}

Plan plan(const config::JobConfig& cfg, const Inputs& in) {
  const config::DistillSpec& d = cfg.distill();
  if (d.teachers_size() == 0) return {"none", "no teachers"};
  const std::string chosen = d.placement().empty() ? "auto" : d.placement();
  if (chosen != "auto") return {chosen, "distill.placement: " + chosen};
  if (in.teacher_ranks > 0) {
    return {"pool", std::to_string(in.teacher_ranks) + " teacher rank(s) launched (--teacher-ranks): they serve the teachers"};
  }
  if (const std::string refusal = topKRefusal(d); !refusal.empty()) return {"replicate", refusal};
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
