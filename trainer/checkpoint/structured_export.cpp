#include "trainer/checkpoint/structured_export.h"

#include <map>
#include <set>
#include <utility>

#include <torch/torch.h>

#include "common/error.h"
#include "trainer/model/model_io.h"

namespace distill::checkpoint {
namespace {

using sparsity::GroupMember;
using sparsity::StructureGroup;

// "layer0.qkv_weight" -> {"layer0", "qkv_weight"}; "embed_tokens" -> {"", "embed_tokens"}.
std::pair<std::string, std::string> splitName(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos) return {"", name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

// The submodule at a dotted path ("" is `top` itself). Modules are handles:
// changes through the result change `top`.
torch::jit::Module submodule(const torch::jit::Module& top, const std::string& path) {
  torch::jit::Module m = top;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('.', start);
    if (end == std::string::npos) end = path.size();
    const std::string part = path.substr(start, end - start);
    DISTILL_CHECK(m.hasattr(part) && m.attr(part).isModule(), "structured export: the model has no submodule \"",
                  path, "\"");
    m = m.attr(part).toModule();
    start = end + 1;
  }
  return m;
}

bool hasParameter(const torch::jit::Module& top, const std::string& name) {
  for (const auto& p : model::namedParameters(top)) {
    if (p.name == name) return true;
  }
  return false;
}

torch::Tensor parameter(const torch::jit::Module& top, const std::string& name) {
  const auto [path, leaf] = splitName(name);
  const auto m = submodule(top, path);
  DISTILL_CHECK(m.hasattr(leaf) && m.attr(leaf).isTensor(), "structured export: the model has no parameter \"",
                name, "\"");
  return m.attr(leaf).toTensor();
}

int64_t countParameters(const torch::jit::Module& m) {
  int64_t n = 0;
  for (const auto& p : model::namedParameters(m)) n += p.tensor.numel();
  return n;
}

// The indices along `dim` of unit `u`'s slice in `member`.
void addSlice(std::set<int64_t>& indices, const GroupMember& member, int64_t u) {
  for (int64_t j = 0; j < member.size; ++j) indices.insert(member.offset + u * member.size + j);
}

// Everything except `drop` along `dim`, as a new contiguous tensor.
torch::Tensor withoutIndices(const torch::Tensor& t, int64_t dim, const std::set<int64_t>& drop) {
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < t.size(dim); ++i) {
    if (!drop.count(i)) keep.push_back(i);
  }
  return t.index_select(dim, torch::tensor(keep, torch::kLong)).contiguous();
}

// A "heads" group is one block's heads: that block now computes the heads
// left, and head_ids maps them to their original indices (so a block pruned
// twice still reports its maps in the original places).
void rewriteHeadAttributes(torch::jit::Module& top, const StructureGroup& group,
                           const std::vector<int64_t>& removed) {
  const std::string block_path = splitName(group.members.front().param).first;
  torch::jit::Module block = submodule(top, block_path);
  DISTILL_CHECK(block.hasattr("num_heads") && block.hasattr("head_ids"), "structured export: group \"", group.name,
                "\" removes heads, but block \"", block_path,
                "\" has no num_heads/head_ids attributes (a model written before structured export; "
                "write it again with distill init-model)");
  const auto old_ids = block.attr("head_ids").toIntVector();
  DISTILL_CHECK(static_cast<int64_t>(old_ids.size()) == group.count, "structured export: group \"", group.name,
                "\" has ", group.count, " heads, block \"", block_path, "\" computes ", old_ids.size());
  const std::set<int64_t> gone(removed.begin(), removed.end());
  std::vector<int64_t> kept;
  for (int64_t h = 0; h < group.count; ++h) {
    if (!gone.count(h)) kept.push_back(old_ids[h]);
  }
  block.setattr("num_heads", static_cast<int64_t>(kept.size()));
  block.setattr("head_ids", c10::List<int64_t>(kept));
}

// heads_per_layer and d_ff_per_layer on the top module of a built-in model.
void describeLayers(torch::jit::Module& top) {
  if (!top.hasattr("distill_arch") || !top.hasattr("num_layers")) return;
  std::vector<int64_t> heads, d_ff;
  for (int64_t i = 0; i < top.attr("num_layers").toInt(); ++i) {
    const auto block = submodule(top, "layer" + std::to_string(i));
    heads.push_back(block.attr("num_heads").toInt());
    d_ff.push_back(block.attr("ff1_weight").toTensor().size(0));
  }
  top.register_attribute("heads_per_layer", c10::ListType::ofInts(), c10::List<int64_t>(heads));
  top.register_attribute("d_ff_per_layer", c10::ListType::ofInts(), c10::List<int64_t>(d_ff));
}

}  // namespace

std::vector<int64_t> zeroUnits(const StructureGroup& group, const torch::jit::Module& module) {
  torch::NoGradGuard no_grad;
  torch::Tensor nonzero;  // [count] bool: the unit has a nonzero entry in some matrix member
  for (const GroupMember& m : group.members) {
    const torch::Tensor t = parameter(module, m.param);
    if (t.dim() < 2) continue;
    // [count, size * rest]: row u holds unit u's slice.
    const auto per_unit =
        t.narrow(m.dim, m.offset, group.count * m.size).movedim(m.dim, 0).reshape({group.count, -1});
    const auto any = per_unit.ne(0).any(1);
    nonzero = nonzero.defined() ? nonzero.logical_or(any) : any;
  }
  std::vector<int64_t> out;
  if (!nonzero.defined()) return out;
  for (int64_t u = 0; u < group.count; ++u) {
    if (!nonzero[u].item<bool>()) out.push_back(u);
  }
  return out;
}

bool supportsStructuredRemoval(const torch::jit::Module& module) {
  if (!module.hasattr("distill_arch") || !module.hasattr("layer0")) return false;
  const auto layer0 = module.attr("layer0");
  return layer0.isModule() && layer0.toModule().hasattr("head_ids");
}

StructuredExport removeZeroUnits(const torch::jit::Module& module, const std::vector<StructureGroup>& groups) {
  torch::NoGradGuard no_grad;
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  for (const auto& p : model::namedParameters(module)) shapes.emplace_back(p.name, p.tensor.sizes().vec());
  sparsity::checkGroups(groups, shapes);

  StructuredExport out;
  out.parameters_before = countParameters(module);
  // Decide every removal on the original first, then cut: indices stay those
  // of the original tensors, and qkv_weight loses its q, k and v rows at once.
  std::map<std::string, std::map<int64_t, std::set<int64_t>>> drop;  // parameter -> dim -> indices
  for (const StructureGroup& g : groups) {
    RemovedUnits r{g.name, g.kind, g.count, zeroUnits(g, module)};
    for (const GroupMember& m : g.members) {
      for (int64_t u : r.removed) addSlice(drop[m.param][m.dim], m, u);
      // A removed row of a weight leaves its bias entry nothing to add to.
      const auto [path, leaf] = splitName(m.param);
      const std::string suffix = "_weight";
      if (m.dim != 0 || leaf.size() <= suffix.size() || leaf.compare(leaf.size() - suffix.size(), suffix.size(), suffix))
        continue;
      const std::string bias = (path.empty() ? "" : path + ".") + leaf.substr(0, leaf.size() - suffix.size()) + "_bias";
      if (!hasParameter(module, bias) || parameter(module, bias).dim() != 1 ||
          parameter(module, bias).size(0) != parameter(module, m.param).size(0))
        continue;
      for (int64_t u : r.removed) addSlice(drop[bias][0], m, u);
    }
    out.groups.push_back(std::move(r));
  }

  torch::jit::Module result = module.clone();
  for (const auto& [name, dims] : drop) {
    const torch::Tensor original = parameter(result, name);
    torch::Tensor cut = original;
    for (const auto& [dim, indices] : dims) {
      if (!indices.empty()) cut = withoutIndices(cut, dim, indices);
    }
    if (cut.sizes() == original.sizes()) continue;
    cut = cut.detach().clone();  // a leaf again, trainable like any parameter of a loaded model
    cut.set_requires_grad(true);
    const auto [path, leaf] = splitName(name);
    submodule(result, path).register_parameter(leaf, cut, /*is_buffer=*/false);
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    if (groups[i].kind == "heads" && !out.groups[i].removed.empty())
      rewriteHeadAttributes(result, groups[i], out.groups[i].removed);
  }
  describeLayers(result);
  out.parameters_after = countParameters(result);
  out.module = result;
  return out;
}

}  // namespace distill::checkpoint
