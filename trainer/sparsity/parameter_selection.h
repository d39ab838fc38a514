// Which parameters a sparsity rule applies to, from include/exclude patterns.
//
//   auto picked = sparsity::selectParameters(params, spec.include(), spec.exclude(), "sparsity");
//
// A name is selected when it matches any include regex (std::regex_search,
// unanchored; with no include: dim() >= 2 and the name does not contain
// "embed") and no exclude regex.
#pragma once

#include <string>
#include <vector>

#include <google/protobuf/repeated_field.h>

#include "trainer/sparsity/named_tensor.h"

namespace distill::sparsity {

// Throws distill::Error naming `<field>.include[i]` / `<field>.exclude[i]` on an invalid regex.
std::vector<NamedTensor> selectParameters(const std::vector<NamedTensor>& params,
                                          const google::protobuf::RepeatedPtrField<std::string>& include,
                                          const google::protobuf::RepeatedPtrField<std::string>& exclude,
                                          const std::string& field);

}  // namespace distill::sparsity
