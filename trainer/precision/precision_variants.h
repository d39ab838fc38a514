// The constructors of the precision variants, one file each; only
// precision_registry.cpp calls them.
#pragma once

#include <memory>

#include "trainer/precision/precision_policy.h"

namespace distill::precision {

std::unique_ptr<PrecisionPolicy> makeFp32Precision();
std::unique_ptr<PrecisionPolicy> makeBf16Precision(c10::Device device);
std::unique_ptr<PrecisionPolicy> makeFp16Precision(c10::Device device);

}  // namespace distill::precision
