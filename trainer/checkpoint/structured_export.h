// Structured export: cuts pruned attention heads and FFN neurons out of a
// built-in transformer, so a head- or neuron-pruned student gets smaller
// instead of only sparser.
//
// A unit (a head, a neuron; trainer/sparsity/structure_groups.h) whose slices
// are 0 in every weight matrix of its group adds nothing to the model's
// output, so removing it physically leaves the output unchanged:
//
//   // the student's parameters already hold W*M
//   auto cut = checkpoint::removeZeroUnits(student, sparsity::builtinGroups(student));
//   cut.module.save("model.pt");   // same outputs, cut.parameters_after < cut.parameters_before
//
// What changes in the copy (docs/checkpoints.md, "Structured export"):
// - a removed head loses its rows of q, k and v in `qkv_weight` and
//   `qkv_bias` and its columns of `out_weight`; its block's `num_heads`
//   drops and `head_ids` keeps the original indices of the heads left;
// - a removed neuron loses its `ff1_weight` row, `ff1_bias` entry and
//   `ff2_weight` column;
// - the top module gains `heads_per_layer` and `d_ff_per_layer` (List[int]);
//   `num_heads` and `d_ff` keep the widths before removal, since `attentions`
//   still holds num_heads maps per layer and d_model / num_heads is the head size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/script.h>

#include "trainer/checkpoint/removed_units.h"
#include "trainer/sparsity/structure_groups.h"

namespace distill::checkpoint {

struct StructuredExport {
  torch::jit::Module module;         // the smaller copy
  std::vector<RemovedUnits> groups;  // one per group, in the order given
  int64_t parameters_before = 0;     // scalar parameters of the module given
  int64_t parameters_after = 0;      // of the copy
};

// The units of `group` whose slice is entirely 0 in every member of two or
// more dimensions. Vectors (biases) are not consulted: a neuron with a bias
// but no weights feeds a constant into zero columns. Empty when the group has
// no member of two or more dimensions.
std::vector<int64_t> zeroUnits(const sparsity::StructureGroup& group, const torch::jit::Module& module);

// Whether `module` is a built-in transformer whose blocks can run with heads
// removed (`distill_arch` on the top module, `head_ids` on its blocks; models
// written before structured export lack the latter).
bool supportsStructuredRemoval(const torch::jit::Module& module);

// A copy of `module` without the zero units (zeroUnits) of `groups`; `module`
// itself is left as it is. A group may lose all its units: a block with no
// heads adds only out_bias in its attention branch, one with no neurons only
// ff2_bias. Besides the members, a member's rows (dim 0) of "<name>_weight"
// take the same entries of "<name>_bias" with them (qkv_bias follows
// qkv_weight). Throws distill::Error when a group does not fit the module's
// parameters, or a "heads" group's block has no num_heads/head_ids.
StructuredExport removeZeroUnits(const torch::jit::Module& module,
                                 const std::vector<sparsity::StructureGroup>& groups);

}  // namespace distill::checkpoint
