#include "trainer/distill/mc_dropout_combiner.h"

#include "common/error.h"
#include "trainer/distill/entropy.h"

namespace distill::kd {

McDropoutCombiner::McDropoutCombiner(double temperature, const config::McDropoutSpec& spec)
    : temperature_(temperature),
      passes_(static_cast<int>(spec.passes())),
      select_(spec.mode() == "select"),
      mode_temperature_(spec.temperature()) {
  DISTILL_CHECK(temperature > 0, "distill.temperature must be > 0, got ", temperature);
  DISTILL_CHECK(spec.passes() >= 1, "distill.mc_dropout.passes must be >= 1, got ", spec.passes());
  DISTILL_CHECK(spec.mode() == "select" || spec.mode() == "softmax", "distill.mc_dropout.mode: unknown mode \"",
                spec.mode(), "\" (accepted: select, softmax)");
  DISTILL_CHECK(select_ || mode_temperature_ > 0, "distill.mc_dropout.temperature must be > 0, got ",
                mode_temperature_);
}

torch::Tensor McDropoutCombiner::weights(const std::vector<torch::Tensor>& teacher_logits,
                                         const torch::Tensor& student_logits) const {
  (void)teacher_logits;
  (void)student_logits;
  DISTILL_FAIL("mc_dropout combiner: needs ", passes_, " stochastic passes of every teacher; run them with dropout "
               "on and call weightsWith(..., CombinerExtras{teacher_passes})");
}

torch::Tensor McDropoutCombiner::uncertainty(const std::vector<torch::Tensor>& teacher_passes) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> u;
  for (size_t k = 0; k < teacher_passes.size(); ++k) {
    const torch::Tensor& passes = teacher_passes[k];
    DISTILL_CHECK(passes.dim() == 3 && passes.size(0) == passes_, "mc_dropout combiner: teacher ", k,
                  " passes must be [", passes_, " passes, batch, classes], got ", passes.sizes());
    const torch::Tensor mean_p = torch::softmax(passes.to(torch::kFloat) / temperature_, /*dim=*/2).mean(/*dim=*/0);
    u.push_back(entropy(mean_p, /*dim=*/1));
  }
  return torch::stack(u);  // [K,B]
}

torch::Tensor McDropoutCombiner::weightsWith(const std::vector<torch::Tensor>& teacher_logits,
                                             const torch::Tensor& student_logits,
                                             const CombinerExtras& extras) const {
  DISTILL_CHECK(!teacher_logits.empty(), "mc_dropout combiner: no teacher logits");
  DISTILL_CHECK(extras.teacher_passes.size() == teacher_logits.size(), "mc_dropout combiner: got passes for ",
                extras.teacher_passes.size(), " teachers, expected ", teacher_logits.size(),
                " (the worker must run every teacher ", passes_, " times with dropout on)");
  for (const torch::Tensor& p : extras.teacher_passes) {
    DISTILL_CHECK(p.dim() == 3 && p.size(1) == student_logits.size(0), "mc_dropout combiner: passes must be [",
                  passes_, ", ", student_logits.size(0), ", classes], got ", p.sizes());
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor u = uncertainty(extras.teacher_passes);
  if (!select_) return torch::softmax(-u / mode_temperature_, /*dim=*/0);
  // argmin returns the first minimum: ties go to the lowest teacher index.
  const torch::Tensor best = u.argmin(/*dim=*/0);  // [B]
  return torch::one_hot(best, u.size(0)).t().to(torch::kFloat).contiguous();
}

}  // namespace distill::kd
