#include "trainer/sparsity/mask_set.h"

#include <cmath>
#include <set>

#include "common/error.h"
#include "trainer/sparsity/parameter_selection.h"

namespace distill::sparsity {

MaskSet MaskSet::select(const std::vector<NamedTensor>& params, const config::SparsitySpec& spec,
                        const std::vector<StructureGroup>& groups) {
  MaskSet set;
  set.granularity_ = parseGranularity(spec);
  set.min_density_ = spec.min_density();
  std::vector<NamedTensor> picked = selectParameters(params, spec.include(), spec.exclude(), "sparsity");
  if (set.granularity_.usesGroups()) {
    std::vector<std::pair<std::string, std::vector<int64_t>>> all_shapes;
    for (const NamedTensor& p : params) all_shapes.emplace_back(p.name, p.tensor.sizes().vec());
    checkGroups(groups, all_shapes);  // every member, masked or not, must fit the model
    std::set<std::string> members;
    for (const StructureGroup& g : groups) {
      if (g.kind != set.granularity_.groupKind()) continue;
      for (const GroupMember& m : g.members) members.insert(m.param);
    }
    std::vector<NamedTensor> in_groups;
    for (const NamedTensor& p : picked) {
      if (members.count(p.name)) in_groups.push_back(p);
    }
    picked = std::move(in_groups);
  }
  torch::NoGradGuard no_grad;
  std::vector<std::string> names;
  std::vector<std::vector<int64_t>> shapes;
  for (const NamedTensor& p : picked) {
    DISTILL_ASSERT(set.index_.count(p.name) == 0, "parameter listed twice: ", p.name);
    set.index_[p.name] = set.masks_.size();
    set.params_.push_back(p);
    set.masks_.push_back({p.name, torch::ones(p.tensor.sizes(), p.tensor.options().dtype(torch::kBool))});
    names.push_back(p.name);
    shapes.push_back(p.tensor.sizes().vec());
  }
  DISTILL_CHECK(!spec.enabled() || !set.empty(), "sparsity: include/exclude select none of the model's ",
                params.size(), " parameters", set.granularity_.usesGroups() ? " that belong to its " + set.granularity_.groupKind() + " groups" : "",
                "; check sparsity.include and sparsity.exclude");
  set.plan_ = std::make_shared<RankingPlan>(RankingPlan::make(names, shapes, set.granularity_, groups));
  return set;
}

std::vector<torch::Tensor> MaskSet::prunedAt(double sparsity, const ImportanceCriterion& criterion,
                                             const std::string& scope) const {
  DISTILL_CHECK(sparsity >= 0 && sparsity <= 1, "sparsity target must be in [0, 1], got ", sparsity);
  if (masks_.empty()) return {};
  torch::NoGradGuard no_grad;

  std::vector<torch::Tensor> scores;
  bool any_double = false;
  for (const NamedTensor& p : params_) {
    torch::Tensor s = criterion.score(p.name, p.tensor.detach());
    DISTILL_ASSERT(s.sizes() == p.tensor.sizes(), "criterion '", criterion.name(), "' scored ", p.name,
                   " with shape ", s.sizes(), ", expected ", p.tensor.sizes());
    DISTILL_CHECK(!s.isnan().any().item<bool>(), "sparsity: criterion '", criterion.name(),
                  "' gives NaN scores for ", p.name, " (are its weights NaN? lower the learning rate)");
    any_double = any_double || s.scalar_type() == torch::kDouble;
    scores.push_back(s);
  }
  // One dtype for global ranking; float32 holds |W| of f16/bf16/f32 exactly.
  for (torch::Tensor& s : scores) s = s.to(any_double ? torch::kDouble : torch::kFloat);

  RankingTarget target;
  target.sparsity = sparsity;
  target.scope = scope;
  target.min_density = min_density_;
  target.threshold = criterion.threshold();
  return plan_->prune(scores, target);
}

int64_t MaskSet::update(double sparsity, const ImportanceCriterion& criterion, const std::string& scope) {
  if (masks_.empty()) return 0;
  const std::vector<torch::Tensor> pruned = prunedAt(sparsity, criterion, scope);
  torch::NoGradGuard no_grad;
  ++version_;
  int64_t changed = 0;
  for (size_t i = 0; i < masks_.size(); ++i) {
    torch::Tensor& mask = masks_[i].tensor;
    const torch::Tensor fresh = pruned[i].logical_not().to(mask.scalar_type()).view(mask.sizes());
    changed += (fresh != mask).sum().item<int64_t>();
    mask.copy_(fresh);
  }
  return changed;
}

void MaskSet::writeEffectiveWeights(const ImportanceCriterion& criterion) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < masks_.size(); ++i) {
    params_[i].tensor.copy_(criterion.effectiveWeight(params_[i].name) * masks_[i].tensor);
  }
}

void MaskSet::applyToWeights() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < masks_.size(); ++i) params_[i].tensor.masked_fill_(masks_[i].tensor.logical_not(), 0.0);
}

void zeroWhereMasked(torch::Tensor& grad, const torch::Tensor& mask) {
  torch::NoGradGuard no_grad;
  at::where_out(grad, mask, grad, torch::zeros({}, grad.options()));
}

void MaskSet::maskGradients() const {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < masks_.size(); ++i) {
    torch::Tensor grad = params_[i].tensor.grad();
    if (grad.defined()) zeroWhereMasked(grad, masks_[i].tensor);
  }
}

const torch::Tensor* MaskSet::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &masks_[it->second].tensor;
}

double MaskSet::sparsity() const {
  int64_t total = 0;
  int64_t zeros = 0;
  for (const NamedTensor& m : masks_) {
    total += m.tensor.numel();
    zeros += (m.tensor == 0).sum().item<int64_t>();
  }
  return total == 0 ? 0.0 : static_cast<double>(zeros) / static_cast<double>(total);
}

std::vector<NamedTensor>& MaskSet::masks() {
  ++version_;
  return masks_;
}
const std::vector<NamedTensor>& MaskSet::masks() const { return masks_; }
const std::vector<NamedTensor>& MaskSet::params() const { return params_; }

int64_t maskChecksum(const torch::Tensor& mask) {
  const torch::Tensor bytes = (mask != 0).to(torch::kCPU).to(torch::kUInt8).contiguous();
  const uint8_t* data = bytes.data_ptr<uint8_t>();
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a 64-bit offset basis
  for (int64_t i = 0; i < bytes.numel(); ++i) {
    hash ^= data[i];
    hash *= 1099511628211ULL;  // FNV-1a 64-bit prime
  }
  return static_cast<int64_t>(hash);
}

std::vector<int64_t> MaskSet::checksums() const {
  std::vector<int64_t> out;
  for (const NamedTensor& m : masks_) out.push_back(maskChecksum(m.tensor));
  return out;
}

std::vector<std::string> MaskSet::names() const {
  std::vector<std::string> out;
  for (const NamedTensor& m : masks_) out.push_back(m.name);
  return out;
}

std::vector<double> MaskSet::densities() const {
  std::vector<double> out;
  for (const NamedTensor& m : masks_) {
    const int64_t n = m.tensor.numel();
    out.push_back(n == 0 ? 1.0 : static_cast<double>((m.tensor != 0).sum().item<int64_t>()) / static_cast<double>(n));
  }
  return out;
}

}  // namespace distill::sparsity
