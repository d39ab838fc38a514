#include "trainer/sparsity/mask_set.h"

#include <cmath>
#include <regex>

#include "common/error.h"

namespace distill::sparsity {
namespace {

std::vector<std::regex> compile(const google::protobuf::RepeatedPtrField<std::string>& patterns,
                                const char* field) {
  std::vector<std::regex> out;
  for (int i = 0; i < patterns.size(); ++i) {
    try {
      out.emplace_back(patterns.Get(i));
    } catch (const std::regex_error& e) {
      DISTILL_FAIL("sparsity.", field, "[", i, "]: invalid regular expression '", patterns.Get(i), "': ", e.what());
    }
  }
  return out;
}

bool matchesAny(const std::string& name, const std::vector<std::regex>& patterns) {
  for (const std::regex& re : patterns) {
    if (std::regex_search(name, re)) return true;
  }
  return false;
}

// Flat bool tensor marking the k lowest entries of `flat`, ties taken in
// index order: the same result as a stable ascending sort, in O(n).
torch::Tensor lowestK(const torch::Tensor& flat, int64_t k) {
  const int64_t n = flat.numel();
  const auto options = flat.options().dtype(torch::kBool);
  if (k <= 0) return torch::zeros({n}, options);
  if (k >= n) return torch::ones({n}, options);
  const torch::Tensor threshold = std::get<0>(flat.kthvalue(k));  // k-th smallest
  const torch::Tensor below = flat < threshold;
  const torch::Tensor tied = flat == threshold;
  const int64_t room = k - below.sum().item<int64_t>();  // tied entries still to prune
  return below | (tied & (tied.to(torch::kLong).cumsum(0) <= room));
}

int64_t countToPrune(double sparsity, int64_t n) {
  return std::llround(sparsity * static_cast<double>(n));
}

}  // namespace

MaskSet MaskSet::select(const std::vector<NamedTensor>& params, const config::SparsitySpec& spec) {
  DISTILL_CHECK(spec.granularity() == "unstructured", "sparsity.granularity: '", spec.granularity(),
                "' is not supported; this version prunes 'unstructured'");
  const std::vector<std::regex> include = compile(spec.include(), "include");
  const std::vector<std::regex> exclude = compile(spec.exclude(), "exclude");
  static const std::regex kEmbedding("embed");

  MaskSet set;
  torch::NoGradGuard no_grad;
  for (const NamedTensor& p : params) {
    const bool included = include.empty()
                              ? p.tensor.dim() >= 2 && !std::regex_search(p.name, kEmbedding)
                              : matchesAny(p.name, include);
    if (!included || matchesAny(p.name, exclude)) continue;
    DISTILL_ASSERT(set.index_.count(p.name) == 0, "parameter listed twice: ", p.name);
    set.index_[p.name] = set.masks_.size();
    set.params_.push_back(p);
    set.masks_.push_back({p.name, torch::ones_like(p.tensor, torch::MemoryFormat::Contiguous)});
  }
  DISTILL_CHECK(!spec.enabled() || !set.empty(), "sparsity: include/exclude select none of the model's ",
                params.size(), " parameters; check sparsity.include and sparsity.exclude");
  return set;
}

int64_t MaskSet::update(double sparsity, const ImportanceCriterion& criterion, const std::string& scope) {
  DISTILL_CHECK(sparsity >= 0 && sparsity <= 1, "sparsity target must be in [0, 1], got ", sparsity);
  DISTILL_CHECK(scope == "global" || scope == "per_layer", "sparsity.scope: unknown scope '", scope,
                "'; known: global, per_layer");
  if (masks_.empty()) return 0;
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
    scores.push_back(s.reshape({-1}));
  }
  // One dtype for global ranking; float32 holds |W| of f16/bf16/f32 exactly.
  for (torch::Tensor& s : scores) s = s.to(any_double ? torch::kDouble : torch::kFloat);

  std::vector<torch::Tensor> pruned;
  if (scope == "global") {
    const torch::Tensor all = torch::cat(scores);
    const torch::Tensor flat = lowestK(all, countToPrune(sparsity, all.numel()));
    int64_t offset = 0;
    for (const torch::Tensor& s : scores) {
      pruned.push_back(flat.narrow(0, offset, s.numel()));
      offset += s.numel();
    }
  } else {
    for (const torch::Tensor& s : scores) pruned.push_back(lowestK(s, countToPrune(sparsity, s.numel())));
  }

  int64_t changed = 0;
  for (size_t i = 0; i < masks_.size(); ++i) {
    torch::Tensor& mask = masks_[i].tensor;
    const torch::Tensor fresh = pruned[i].logical_not().to(mask.scalar_type()).view(mask.sizes());
    changed += (fresh != mask).sum().item<int64_t>();
    mask.copy_(fresh);
  }
  return changed;
}

void MaskSet::applyToWeights() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < masks_.size(); ++i) params_[i].tensor.masked_fill_(masks_[i].tensor == 0, 0.0);
}

void MaskSet::maskGradients() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < masks_.size(); ++i) {
    torch::Tensor grad = params_[i].tensor.grad();
    if (grad.defined()) grad.masked_fill_(masks_[i].tensor == 0, 0.0);
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

std::vector<NamedTensor>& MaskSet::masks() { return masks_; }
const std::vector<NamedTensor>& MaskSet::masks() const { return masks_; }
const std::vector<NamedTensor>& MaskSet::params() const { return params_; }

std::vector<int64_t> MaskSet::checksums() const {
  std::vector<int64_t> out;
  for (const NamedTensor& m : masks_) {
    const torch::Tensor bytes = (m.tensor != 0).to(torch::kCPU).to(torch::kUInt8).contiguous();
    const uint8_t* data = bytes.data_ptr<uint8_t>();
    uint64_t hash = 14695981039346656037ULL;  // FNV-1a 64-bit offset basis
    for (int64_t i = 0; i < bytes.numel(); ++i) {
      hash ^= data[i];
      hash *= 1099511628211ULL;  // FNV-1a 64-bit prime
    }
    out.push_back(static_cast<int64_t>(hash));
  }
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
