// Structural units that are pruned as a whole: the attention heads and the
// feed-forward neurons of a transformer layer.
//
// A head groups the rows of Q, K and V that compute it and the columns of the
// output projection that read it; a neuron groups a row of the first FFN
// matrix and a column of the second. Removing a whole unit from every member
// leaves the model's output unchanged when its mask is 0, which is what lets
// the export cut it out physically (trainer/checkpoint/structured_export.h).
//
//   auto groups = sparsity::modelGroups(student, job.sparsity());   // built-in or from the config
//   for (const auto& g : groups) if (g.kind == "heads") ...         // g.count heads, g.members slices
//
// Unit u of a group is, in every member, the slice [offset + u*size,
// offset + (u+1)*size) along `dim` of the member's parameter.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/script.h>

#include "proto/config.pb.h"

namespace distill::sparsity {

struct GroupMember {
  std::string param;
  int64_t dim = 0;
  int64_t offset = 0;
  int64_t size = 1;
};

struct StructureGroup {
  std::string name;  // "layer0.heads"
  std::string kind;  // "heads" or "neurons"
  int64_t count = 0;
  std::vector<GroupMember> members;
};

// The groups a built-in architecture declares (module attribute distill_arch):
// per layer i, "layer<i>.heads" (qkv_weight rows of q, k and v; out_weight
// columns) and "layer<i>.neurons" (ff1_weight rows, ff1_bias entries,
// ff2_weight columns). Empty for other modules.
std::vector<StructureGroup> builtinGroups(const torch::jit::Module& module);

// sparsity.groups, converted. Throws distill::Error naming the field on a bad entry.
std::vector<StructureGroup> configGroups(const config::SparsitySpec& spec);

// sparsity.groups when the config names any, else the built-in declaration.
std::vector<StructureGroup> modelGroups(const torch::jit::Module& module, const config::SparsitySpec& spec);

// Throws distill::Error naming the group and member when a slice does not fit
// its parameter (unknown name, dim out of range, slice past the end).
void checkGroups(const std::vector<StructureGroup>& groups,
                 const std::vector<std::pair<std::string, std::vector<int64_t>>>& param_shapes);

}  // namespace distill::sparsity
