// sparsity_report.json: what `distill export` writes about the student it
// exported (per parameter: shape before and after structured removal,
// density, granularity, criterion; totals; removed heads and neurons), and
// the table `distill inspect` prints from it. Fields in docs/checkpoints.md.
//
//   auto settings = sparsitySettings(trainer_json);          // criterion, granularity, scope
//   nlohmann::json report = sparsityReport(ckpt_dir, step, settings, params, removal);
//   std::fputs(formatSparsityReport(report, "student/sparsity_report.json").c_str(), stdout);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include "trainer/checkpoint/removed_units.h"

namespace distill::checkpoint {

// How the masks were chosen: trainer.json's "sparsity_spec" object. A
// checkpoint without it (written before the key existed, or without
// sparsity) reads as unstructured with an unknown criterion and scope.
struct SparsitySettings {
  std::string criterion = "unknown";
  std::string granularity = "unstructured";
  std::string scope = "unknown";
  // Heads and neurons are the granularities whose pruned units export removes.
  bool structured() const { return granularity == "heads" || granularity == "neurons"; }
};
SparsitySettings sparsitySettings(const nlohmann::json& trainer_state);

// One exported parameter.
struct ParameterSparsity {
  std::string name;
  std::vector<int64_t> shape;           // as exported
  std::vector<int64_t> original_shape;  // in the checkpoint (differs after structured removal)
  int64_t zeros = 0;                    // zero entries as exported
  bool masked = false;                  // the checkpoint had a mask for it
  // A matrix whose input dimension is a multiple of 4 and whose every 4
  // consecutive entries along it hold at most 2 nonzeros, as exported: what
  // 2:4 semi-structured kernels (NVIDIA sparse tensor cores) take.
  bool pattern_2_4 = false;
};

// Whether `weight` ([out, in], in % 4 == 0) has at most 2 nonzeros in every 4 consecutive inputs.
bool follows2of4(const at::Tensor& weight);

// What structured removal did, or why it did not run.
struct StructuredRemoval {
  bool applied = false;
  std::string note;  // when not applied: why
  int64_t parameters_before = 0;
  int64_t parameters_after = 0;
  std::vector<RemovedUnits> groups;
};

// The report. Densities and sparsities are over the original shapes (the
// masked model, which is what the sparsity target refers to): removal drops
// only zeros, so they read the same with or without it.
nlohmann::json sparsityReport(const std::string& checkpoint, uint64_t step, const SparsitySettings& settings,
                              const std::vector<ParameterSparsity>& params, const StructuredRemoval& removal);

// The report as text: a header line, an aligned table (parameter, shape,
// original shape when any differs, density, granularity, criterion), totals,
// and the removed heads and neurons per group. Reports written before the
// granularity/criterion fields show "-" there. Throws distill::Error naming
// `source` when the report has no "parameters" list.
std::string formatSparsityReport(const nlohmann::json& report, const std::string& source);

}  // namespace distill::checkpoint
