#include "trainer/sparsity/parameter_selection.h"

#include <regex>

#include "common/error.h"

namespace distill::sparsity {
namespace {

std::vector<std::regex> compile(const google::protobuf::RepeatedPtrField<std::string>& patterns,
                                const std::string& field) {
  std::vector<std::regex> out;
  for (int i = 0; i < patterns.size(); ++i) {
    try {
      out.emplace_back(patterns.Get(i));
    } catch (const std::regex_error& e) {
      DISTILL_FAIL(field, "[", i, "]: invalid regular expression '", patterns.Get(i), "': ", e.what());
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

}  // namespace

std::vector<NamedTensor> selectParameters(const std::vector<NamedTensor>& params,
                                          const google::protobuf::RepeatedPtrField<std::string>& include,
                                          const google::protobuf::RepeatedPtrField<std::string>& exclude,
                                          const std::string& field) {
  const std::vector<std::regex> inc = compile(include, field + ".include");
  const std::vector<std::regex> exc = compile(exclude, field + ".exclude");
  static const std::regex kEmbedding("embed");
  std::vector<NamedTensor> out;
  for (const NamedTensor& p : params) {
    const bool included = inc.empty() ? p.tensor.dim() >= 2 && !std::regex_search(p.name, kEmbedding)
                                      : matchesAny(p.name, inc);
    if (included && !matchesAny(p.name, exc)) out.push_back(p);
  }
  return out;
}

}  // namespace distill::sparsity
