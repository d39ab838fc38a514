#include "trainer/distill/snapshot_teachers.h"

#include <set>

#include "common/error.h"
#include "trainer/distill/infonce.h"
#include "trainer/distill/sentence_representation.h"
#include "trainer/precision/precision_policy.h"

namespace distill::kd {

SnapshotTeachers::SnapshotTeachers(const config::DistillSpec& spec, const torch::jit::Module& student,
                                   const precision::PrecisionPolicy& precision)
    : keep_(spec.snapshot_teachers()),
      weight_(spec.snapshot_weight()),
      temperature_(spec.snapshot_temperature()),
      precision_(precision) {
  DISTILL_ASSERT(keep_ > 0, "distill.snapshot_teachers is 0");
  pretrained_ = copyOf(student);
}

torch::jit::Module SnapshotTeachers::copyOf(const torch::jit::Module& student) const {
  torch::NoGradGuard no_grad;                 // the copies are leaves, outside the student's graph
  torch::jit::Module copy = student.clone();  // parameters copied, not shared
  precision_.prepareTeacher(copy);
  copy.eval();
  for (auto& p : model::namedParameters(copy)) p.tensor.requires_grad_(false);
  return copy;
}

void SnapshotTeachers::take(const torch::jit::Module& student, uint64_t step) {
  taken_.emplace_back(step, copyOf(student));
  while (taken_.size() > keep_) taken_.pop_front();
}

std::vector<uint64_t> SnapshotTeachers::steps() const {
  std::vector<uint64_t> out;
  for (const auto& [step, m] : taken_) out.push_back(step);
  return out;
}

std::vector<torch::Tensor> SnapshotTeachers::represent(const data::Batch& micro) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> reps;
  auto one = [&](torch::jit::Module& m, const std::string& name) {
    const model::ModelOutputs out = model::runModel(m, micro.input_ids, micro.attention_mask, name);
    DISTILL_CHECK(out.hidden_states.defined(), name, ": returns no hidden states, which distill.snapshot_teachers ",
                  "compares (a built-in or imported architecture returns them)");
    reps.push_back(maskedMean(out.hidden_states[-1].to(torch::kFloat), micro.attention_mask));
  };
  one(pretrained_, "the pre-trained snapshot");
  for (auto& [step, m] : taken_) one(m, "the snapshot of step " + std::to_string(step));
  return reps;
}

torch::Tensor SnapshotTeachers::loss(const model::ModelOutputs& student, const data::Batch& micro,
                                     const std::vector<torch::Tensor>& snapshot_reps) const {
  DISTILL_CHECK(student.hidden_states.defined(), "distill.snapshot_teachers: the student returns no hidden states");
  const torch::Tensor s = maskedMean(student.hidden_states[-1], micro.attention_mask);
  const torch::Tensor real = micro.attention_mask.ne(0).any(/*dim=*/1).to(torch::kFloat);  // [B]
  const torch::Tensor count = real.sum().clamp_min(1.0);
  torch::Tensor sum = torch::zeros({}, s.options().dtype(torch::kFloat));
  for (const torch::Tensor& t : snapshot_reps) sum = sum + (infoNCE(s, t, torch::Tensor(), temperature_) * real).sum() / count;
  return sum * (weight_ / static_cast<double>(snapshot_reps.size()));
}

std::string SnapshotTeachers::stateName(const std::string& snapshot, const std::string& param) const {
  return snapshot + "/" + param;
}

std::vector<sparsity::NamedTensor> SnapshotTeachers::state() const {
  std::vector<sparsity::NamedTensor> out;
  for (const auto& p : model::namedParameters(pretrained_)) out.push_back({stateName("pretrained", p.name), p.tensor});
  for (const auto& [step, m] : taken_) {
    for (const auto& p : model::namedParameters(m)) {
      out.push_back({stateName("snapshot-" + std::to_string(step), p.name), p.tensor});
    }
  }
  return out;
}

void SnapshotTeachers::load(const std::map<std::string, torch::Tensor>& saved, const std::string& file) {
  std::set<uint64_t> steps;
  for (const auto& [name, t] : saved) {
    if (name.rfind("snapshot-", 0) != 0) continue;
    const std::string step = name.substr(9, name.find('/') - 9);
    DISTILL_CHECK(!step.empty() && step.find_first_not_of("0123456789") == std::string::npos && step.size() < 19,
                  file, ": tensor \"", name, "\" is not named snapshot-<step>/<parameter>");
    steps.insert(std::stoull(step));
  }
  auto restore = [&](const std::string& snapshot) {
    torch::jit::Module m = pretrained_.clone();  // the architecture; every parameter is overwritten
    torch::NoGradGuard no_grad;
    for (auto& p : model::namedParameters(m)) {
      const std::string name = stateName(snapshot, p.name);
      const auto it = saved.find(name);
      DISTILL_CHECK(it != saved.end(), file, ": no tensor \"", name, "\": the checkpoint's snapshot teachers are ",
                    "of another student");
      DISTILL_CHECK(it->second.sizes() == p.tensor.sizes(), file, ": tensor \"", name, "\" has shape ",
                    it->second.sizes(), ", the student has ", p.tensor.sizes());
      p.tensor.copy_(it->second);
    }
    return copyOf(m);
  };
  pretrained_ = restore("pretrained");
  taken_.clear();
  for (uint64_t step : steps) taken_.emplace_back(step, restore("snapshot-" + std::to_string(step)));
  while (taken_.size() > keep_) taken_.pop_front();
}

}  // namespace distill::kd
