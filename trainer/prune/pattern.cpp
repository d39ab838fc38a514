#include <cstdio>
#include <cstdlib>

#include "common/error.h"
#include "trainer/prune/one_shot.h"

namespace distill::prune {

Pattern Pattern::parse(const std::string& text, const std::string& field) {
  Pattern p;
  const auto colon = text.find(':');
  char* end = nullptr;
  if (colon == std::string::npos) {
    p.sparsity = std::strtod(text.c_str(), &end);
    DISTILL_CHECK(!text.empty() && end && *end == '\0' && p.sparsity >= 0 && p.sparsity < 1, field, ": \"", text,
                  "\" is neither a fraction in [0, 1) (0.5) nor an N:M pattern (2:4)");
    return p;
  }
  const std::string n = text.substr(0, colon), m = text.substr(colon + 1);
  auto integer = [&](const std::string& part) -> int64_t {
    DISTILL_CHECK(!part.empty() && part.size() <= 6 && part.find_first_not_of("0123456789") == std::string::npos,
                  field, ": \"", text, "\" is not an N:M pattern of small whole numbers (2:4, 4:8)");
    return std::stoll(part);
  };
  p.n = integer(n);
  p.m = integer(m);
  DISTILL_CHECK(p.n >= 1 && p.n < p.m, field, ": \"", text, "\" must keep 1 to M-1 of every M entries (2:4, 4:8)");
  p.sparsity = 1.0 - static_cast<double>(p.n) / static_cast<double>(p.m);
  return p;
}

std::string Pattern::describe() const {
  if (nm()) return std::to_string(n) + ":" + std::to_string(m);
  char text[48];
  std::snprintf(text, sizeof text, "%g%% unstructured", 100 * sparsity);
  return text;
}

void checkFits(const Pattern& pattern, const torch::Tensor& weight, const std::string& layer) {
  DISTILL_CHECK(weight.dim() == 2, layer, ": one-shot pruning prunes matrices; this tensor has ", weight.dim(),
                " dimensions");
  if (pattern.nm()) {
    DISTILL_CHECK(weight.size(1) % pattern.m == 0, layer, ": the ", pattern.describe(), " pattern needs an input ",
                  "dimension that is a multiple of ", pattern.m, "; this weight is [", weight.size(0), ", ",
                  weight.size(1), "]");
  }
}

LayerStatistics::LayerStatistics(int64_t in_features, bool with_gram)
    : sq_norms(torch::zeros({in_features}, torch::kFloat64)) {
  if (with_gram) gram = torch::zeros({in_features, in_features}, torch::kFloat64);
}

void LayerStatistics::add(const torch::Tensor& inputs) {
  const torch::Tensor x = inputs.reshape({-1, inputs.size(-1)}).to(torch::kCPU, torch::kFloat64);
  DISTILL_CHECK(x.size(1) == sq_norms.size(0), "layer statistics: inputs of width ", x.size(1), ", the layer takes ",
                sq_norms.size(0));
  sq_norms += x.square().sum(0);
  if (gram.defined()) gram.addmm_(x.t(), x);
  tokens += x.size(0);
}

}  // namespace distill::prune
