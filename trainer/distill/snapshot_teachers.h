// CAP's snapshot teachers (contrastive pruning, Xu et al. 2022; DESIGN.md
// section 10): while the student is pruned, the models it was on the way
// (snapshots taken after each mask update) and the model it started from
// (the pre-trained student) know what pruning has since removed. Each is an
// extra, frozen teacher of a contrastive term: the student's representation
// of a sample (the mean of its last hidden layer over real tokens) must pick
// out that sample's representation by each snapshot among the batch's
// (InfoNCE, infonce.h). The student's architecture, so no projection.
//
//   SnapshotTeachers snapshots(spec, student, precision);   // keeps the pre-trained student
//   after each mask update:  snapshots.take(student, step);  // the newest distill.snapshot_teachers kept
//   each micro-batch:        auto reps = snapshots.represent(micro);                  // no grad
//                            torch::Tensor term = snapshots.loss(student_out, micro, reps);
//   checkpoints:             snapshots.state() / snapshots.load(saved, file)
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <torch/script.h>

#include "proto/config.pb.h"
#include "trainer/data/dataset.h"
#include "trainer/model/model_io.h"
#include "trainer/sparsity/named_tensor.h"

namespace distill::precision {
class PrecisionPolicy;
}

namespace distill::kd {

class SnapshotTeachers {
 public:
  // Copies `student` as the pre-trained snapshot. Snapshots compute in the
  // precision's teacher dtype (bf16 jobs keep them in bf16).
  SnapshotTeachers(const config::DistillSpec& spec, const torch::jit::Module& student,
                   const precision::PrecisionPolicy& precision);

  // A snapshot of `student` after `step` optimizer steps (its masked weights);
  // the oldest is dropped beyond distill.snapshot_teachers.
  void take(const torch::jit::Module& student, uint64_t step);

  // Each snapshot's representation of `micro`, pre-trained first: [B,D] each, no grad.
  std::vector<torch::Tensor> represent(const data::Batch& micro);
  // weight * mean over snapshots and over samples with a real token of the
  // InfoNCE loss; differentiable w.r.t. the student. `student` must carry hidden states.
  torch::Tensor loss(const model::ModelOutputs& student, const data::Batch& micro,
                     const std::vector<torch::Tensor>& snapshot_reps) const;

  // The pre-trained model and the newest snapshots: 1 + min(taken, N).
  size_t size() const { return 1 + taken_.size(); }
  // Steps the snapshots after the pre-trained one were taken at, oldest first.
  std::vector<uint64_t> steps() const;

  // Every snapshot's parameters as "pretrained/<param>" and
  // "snapshot-<step>/<param>", in their compute dtype.
  std::vector<sparsity::NamedTensor> state() const;
  // Rebuilds the snapshots from state() as a checkpoint saved it; errors name `file`.
  void load(const std::map<std::string, torch::Tensor>& saved, const std::string& file);

 private:
  torch::jit::Module copyOf(const torch::jit::Module& student) const;
  std::string stateName(const std::string& snapshot, const std::string& param) const;
  size_t keep_;
  double weight_, temperature_;
  const precision::PrecisionPolicy& precision_;
  torch::jit::Module pretrained_;
  std::deque<std::pair<uint64_t, torch::jit::Module>> taken_;  // (step, snapshot), oldest first
};

}  // namespace distill::kd
