#include "trainer/sparsity/structure_groups.h"

#include "common/error.h"

namespace distill::sparsity {
namespace {

int64_t intAttr(const torch::jit::Module& m, const char* name) { return m.attr(name).toInt(); }

}  // namespace

std::vector<StructureGroup> builtinGroups(const torch::jit::Module& module) {
  if (!module.hasattr("distill_arch")) return {};
  // Imported Hugging Face families ("hf-llama", ...) declare no groups yet:
  // a job names theirs in sparsity.groups.
  if (module.attr("distill_arch").toStringRef().rfind("hf-", 0) == 0) return {};
  const int64_t layers = intAttr(module, "num_layers");
  const int64_t d = intAttr(module, "d_model");
  const int64_t heads = intAttr(module, "num_heads");
  const int64_t d_ff = intAttr(module, "d_ff");
  const int64_t head_dim = d / heads;
  // Routed experts (distill moefy) must keep d_ff / E neurons each: removing
  // single neurons would unbalance them, so their neurons form no group.
  const bool experts = module.hasattr("ffn_experts");
  std::vector<StructureGroup> out;
  for (int64_t i = 0; i < layers; ++i) {
    const std::string layer = "layer" + std::to_string(i);
    // qkv_weight is [3D, D] with rows [q; k; v]; head h owns rows h*head_dim.. of each.
    out.push_back({layer + ".heads", "heads", heads,
                   {{layer + ".qkv_weight", 0, 0, head_dim},
                    {layer + ".qkv_weight", 0, d, head_dim},
                    {layer + ".qkv_weight", 0, 2 * d, head_dim},
                    {layer + ".out_weight", 1, 0, head_dim}}});
    if (experts) continue;
    out.push_back({layer + ".neurons", "neurons", d_ff,
                   {{layer + ".ff1_weight", 0, 0, 1}, {layer + ".ff1_bias", 0, 0, 1}, {layer + ".ff2_weight", 1, 0, 1}}});
  }
  return out;
}

std::vector<StructureGroup> configGroups(const config::SparsitySpec& spec) {
  std::vector<StructureGroup> out;
  for (int i = 0; i < spec.groups_size(); ++i) {
    const auto& g = spec.groups(i);
    const std::string field = "sparsity.groups[" + std::to_string(i) + "]";
    DISTILL_CHECK(g.kind() == "heads" || g.kind() == "neurons", field, ".kind: unknown group kind \"", g.kind(),
                  "\" (accepted: heads, neurons)");
    DISTILL_CHECK(g.count() > 0 && g.members_size() > 0, field, ": needs count >= 1 and at least one member");
    StructureGroup group{g.name().empty() ? field : g.name(), g.kind(), g.count(), {}};
    for (const auto& m : g.members()) {
      DISTILL_CHECK(m.size() > 0, field, ".members: size must be >= 1 (param ", m.param(), ")");
      group.members.push_back({m.param(), m.dim(), m.offset(), m.size()});
    }
    out.push_back(std::move(group));
  }
  return out;
}

std::vector<StructureGroup> modelGroups(const torch::jit::Module& module, const config::SparsitySpec& spec) {
  return spec.groups_size() > 0 ? configGroups(spec) : builtinGroups(module);
}

void checkGroups(const std::vector<StructureGroup>& groups,
                 const std::vector<std::pair<std::string, std::vector<int64_t>>>& param_shapes) {
  for (const StructureGroup& g : groups) {
    for (const GroupMember& m : g.members) {
      const std::vector<int64_t>* shape = nullptr;
      for (const auto& [name, s] : param_shapes) {
        if (name == m.param) shape = &s;
      }
      DISTILL_CHECK(shape, "sparsity group \"", g.name, "\": the model has no parameter \"", m.param, "\"");
      DISTILL_CHECK(m.dim >= 0 && m.dim < static_cast<int64_t>(shape->size()), "sparsity group \"", g.name,
                    "\": member ", m.param, " has no dim ", m.dim);
      const int64_t end = m.offset + g.count * m.size;
      DISTILL_CHECK(end <= (*shape)[m.dim], "sparsity group \"", g.name, "\": ", g.count, " units of size ", m.size,
                    " from offset ", m.offset, " end at ", end, ", past ", m.param, "'s dim ", m.dim, " of size ",
                    (*shape)[m.dim]);
    }
  }
}

}  // namespace distill::sparsity
