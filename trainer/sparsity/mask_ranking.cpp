#include "trainer/sparsity/mask_ranking.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace distill::sparsity {
namespace {

using Kind = Granularity::Kind;

int64_t countToPrune(double sparsity, int64_t n) { return std::llround(sparsity * static_cast<double>(n)); }

// Units an owner may prune without going below min_density.
int64_t pruneCap(int64_t units, double min_density) {
  return units - static_cast<int64_t>(std::ceil(min_density * static_cast<double>(units) - 1e-9));
}

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

}  // namespace

torch::Tensor lowestK(const torch::Tensor& flat, int64_t k) {
  const int64_t n = flat.numel();
  const auto options = flat.options().dtype(torch::kBool);
  if (k <= 0) return torch::zeros({n}, options);
  if (k >= n) return torch::ones({n}, options);
  const torch::Tensor threshold = std::get<0>(flat.kthvalue(k));  // k-th smallest
  const torch::Tensor below = flat < threshold;
  const torch::Tensor tied = flat == threshold;
  const int64_t room = k - below.sum().item<int64_t>();  // tied entries still to prune
  // Usually every tied entry fits (continuous scores tie only at the threshold itself): no cumsum then.
  if (tied.sum().item<int64_t>() <= room) return below | tied;
  return below | (tied & (tied.to(torch::kLong).cumsum(0) <= room));
}

RankingPlan RankingPlan::make(const std::vector<std::string>& names, const std::vector<std::vector<int64_t>>& shapes,
                              const Granularity& g, const std::vector<StructureGroup>& groups) {
  RankingPlan plan;
  plan.granularity_ = g;
  plan.shapes_ = shapes;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::vector<int64_t>& shape = shapes[i];
    const std::string& name = names[i];
    const int64_t n = numel(shape);
    Owner o;
    o.name = name;
    switch (g.kind) {
      case Kind::kNM:
        DISTILL_CHECK(!shape.empty() && shape.back() % g.m == 0, "sparsity.granularity ", g.name, ": parameter \"",
                      name, "\" has a last dimension of ", shape.empty() ? 0 : shape.back(), ", not a multiple of ",
                      g.m, "; exclude it with sparsity.exclude");
        continue;
      case Kind::kUnstructured:
        o.units = n;
        o.unit_size = 1;
        o.unit_scores = [i](const std::vector<torch::Tensor>& s) { return s[i].reshape({-1}); };
        o.expand = [i](const torch::Tensor& u, std::vector<torch::Tensor>& p) { p[i].bitwise_or_(u.view(p[i].sizes())); };
        break;
      case Kind::kRows:
      case Kind::kColumns: {
        DISTILL_CHECK(shape.size() >= 2, "sparsity.granularity ", g.name, ": parameter \"", name, "\" has ",
                      shape.size(), " dimension(s); rows and columns need a matrix; exclude it with sparsity.exclude");
        const int64_t dim = g.kind == Kind::kRows ? 0 : 1;
        o.units = shape[dim];
        o.unit_size = n / shape[dim];
        o.unit_scores = [i, dim](const std::vector<torch::Tensor>& s) {
          return s[i].movedim(dim, 0).reshape({s[i].size(dim), -1}).mean(1);
        };
        o.expand = [i, dim](const torch::Tensor& u, std::vector<torch::Tensor>& p) {
          std::vector<int64_t> view(p[i].dim(), 1);
          view[dim] = -1;
          p[i].bitwise_or_(u.view(view).expand(p[i].sizes()));
        };
        break;
      }
      case Kind::kBlocks: {
        const int64_t br = g.block_rows, bc = g.block_cols;
        DISTILL_CHECK(shape.size() == 2 && shape[0] % br == 0 && shape[1] % bc == 0, "sparsity.block_shape [", br,
                      ", ", bc, "] does not tile parameter \"", name, "\" of shape ", torch::IntArrayRef(shape),
                      "; exclude it with sparsity.exclude");
        const int64_t rb = shape[0] / br, cb = shape[1] / bc;
        o.units = rb * cb;
        o.unit_size = br * bc;
        o.unit_scores = [i, rb, br, cb, bc](const std::vector<torch::Tensor>& s) {
          return s[i].view({rb, br, cb, bc}).mean({1, 3}).reshape({-1});
        };
        o.expand = [i, rb, br, cb, bc](const torch::Tensor& u, std::vector<torch::Tensor>& p) {
          p[i].bitwise_or_(u.view({rb, 1, cb, 1}).expand({rb, br, cb, bc}).reshape(p[i].sizes()));
        };
        break;
      }
      case Kind::kHeads:
      case Kind::kNeurons:
        break;
    }
    if (!g.usesGroups()) plan.owners_.push_back(std::move(o));
  }
  if (!g.usesGroups()) return plan;

  for (const StructureGroup& group : groups) {
    if (group.kind != g.groupKind()) continue;
    struct Slice {
      size_t param;
      GroupMember member;
    };
    std::vector<Slice> slices;
    int64_t unit_size = 0;
    for (const GroupMember& m : group.members) {
      const auto it = std::find(names.begin(), names.end(), m.param);
      if (it == names.end()) continue;  // a member that is not masked (e.g. a bias) is cut at export only
      const size_t i = static_cast<size_t>(it - names.begin());
      checkGroups({{group.name, group.kind, group.count, {m}}}, {{names[i], shapes[i]}});
      slices.push_back({i, m});
      unit_size += numel(shapes[i]) / shapes[i][m.dim] * m.size;
    }
    if (slices.empty()) continue;
    Owner o;
    o.name = group.name;
    o.units = group.count;
    o.unit_size = unit_size;
    const int64_t count = group.count;
    o.unit_scores = [slices, count, unit_size](const std::vector<torch::Tensor>& s) {
      torch::Tensor sum;
      for (const Slice& sl : slices) {
        const torch::Tensor part = s[sl.param]
                                       .narrow(sl.member.dim, sl.member.offset, count * sl.member.size)
                                       .movedim(sl.member.dim, 0)
                                       .reshape({count, -1})
                                       .sum(1);
        sum = sum.defined() ? sum + part : part;
      }
      return sum / static_cast<double>(unit_size);
    };
    o.expand = [slices, count](const torch::Tensor& u, std::vector<torch::Tensor>& p) {
      for (const Slice& sl : slices) {
        torch::Tensor part = p[sl.param].narrow(sl.member.dim, sl.member.offset, count * sl.member.size);
        std::vector<int64_t> view(part.dim(), 1);
        view[sl.member.dim] = -1;
        part.bitwise_or_(u.repeat_interleave(sl.member.size).view(view).expand(part.sizes()));
      }
    };
    plan.owners_.push_back(std::move(o));
  }
  DISTILL_CHECK(!plan.owners_.empty() || names.empty(), "sparsity.granularity ", g.name, ": none of the ",
                g.groupKind(), " groups of the model has a member among the selected parameters (check "
                "sparsity.include/exclude, or declare sparsity.groups for a model that is not built in; a model with "
                "routed experts, from distill moefy, has no neuron groups)");
  return plan;
}

std::vector<torch::Tensor> RankingPlan::pruneNM(const std::vector<torch::Tensor>& scores) const {
  std::vector<torch::Tensor> out;
  for (const torch::Tensor& s : scores) {
    const torch::Tensor groups = s.reshape({-1, granularity_.m});
    // Stable descending sort: among equal scores the lower index is kept.
    const torch::Tensor order = std::get<1>(groups.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true));
    torch::Tensor pruned = torch::ones_like(groups, groups.options().dtype(torch::kBool));
    pruned.scatter_(1, order.narrow(1, 0, granularity_.n), false);
    out.push_back(pruned.view(s.sizes()));
  }
  return out;
}

std::vector<torch::Tensor> RankingPlan::prune(const std::vector<torch::Tensor>& scores,
                                              const RankingTarget& target) const {
  DISTILL_ASSERT(scores.size() == shapes_.size(), "ranking: ", scores.size(), " scores for ", shapes_.size(),
                 " parameters");
  if (granularity_.kind == Kind::kNM) return pruneNM(scores);
  DISTILL_CHECK(target.scope == "global" || target.scope == "per_layer", "sparsity.scope: unknown scope '",
                target.scope, "'; known: global, per_layer");
  std::vector<torch::Tensor> pruned;
  for (const torch::Tensor& s : scores) pruned.push_back(torch::zeros(s.sizes(), s.options().dtype(torch::kBool)));

  std::vector<torch::Tensor> unit_scores;
  for (const Owner& o : owners_) unit_scores.push_back(o.unit_scores(scores).to(torch::kDouble));

  if (target.threshold) {
    for (size_t k = 0; k < owners_.size(); ++k) owners_[k].expand(unit_scores[k] <= *target.threshold, pruned);
    return pruned;
  }
  if (target.scope == "per_layer") {
    for (size_t k = 0; k < owners_.size(); ++k) {
      const Owner& o = owners_[k];
      const int64_t want = std::min(countToPrune(target.sparsity, o.units), pruneCap(o.units, target.min_density));
      o.expand(lowestK(unit_scores[k], want), pruned);
    }
    return pruned;
  }

  int64_t total = 0;
  bool unit_entries = true;
  for (const Owner& o : owners_) {
    total += o.units * o.unit_size;
    unit_entries = unit_entries && o.unit_size == 1;
  }
  const int64_t goal = countToPrune(target.sparsity, total);
  if (owners_.empty()) return pruned;
  const torch::Tensor all = torch::cat(unit_scores);
  if (unit_entries && target.min_density == 0) {  // the common case, O(n)
    const torch::Tensor flat = lowestK(all, goal);
    int64_t offset = 0;
    for (size_t k = 0; k < owners_.size(); ++k) {
      owners_[k].expand(flat.narrow(0, offset, owners_[k].units), pruned);
      offset += owners_[k].units;
    }
    return pruned;
  }
  // Units of different sizes, or per-owner caps: greedy over a stable sort.
  std::vector<int64_t> owner_of, start;
  for (size_t k = 0; k < owners_.size(); ++k) {
    start.push_back(static_cast<int64_t>(owner_of.size()));
    owner_of.insert(owner_of.end(), owners_[k].units, static_cast<int64_t>(k));
  }
  const torch::Tensor order = std::get<1>(all.cpu().sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
  const int64_t* idx = order.data_ptr<int64_t>();
  std::vector<int64_t> cap, used(owners_.size(), 0);
  for (const Owner& o : owners_) cap.push_back(pruneCap(o.units, target.min_density));
  std::vector<torch::Tensor> chosen;
  for (const Owner& o : owners_) chosen.push_back(torch::zeros({o.units}, torch::kBool));
  int64_t done = 0;
  for (int64_t j = 0; j < order.numel() && done < goal; ++j) {
    const int64_t k = owner_of[idx[j]];
    const int64_t size = owners_[k].unit_size;
    if (used[k] >= cap[k]) continue;
    if (done + size - goal > goal - done) continue;  // would overshoot more than it helps
    chosen[k].data_ptr<bool>()[idx[j] - start[k]] = true;
    ++used[k];
    done += size;
  }
  for (size_t k = 0; k < owners_.size(); ++k) owners_[k].expand(chosen[k].to(all.device()), pruned);
  return pruned;
}

}  // namespace distill::sparsity
