// fp32: the step computes in float32 throughout; nothing is converted.
#include "trainer/precision/precision_variants.h"

namespace distill::precision {
namespace {

class NoRegion final : public ComputeRegion {};

class Fp32Precision final : public PrecisionPolicy {
 public:
  std::string name() const override { return "fp32"; }
  torch::ScalarType teacherDtype() const override { return torch::kFloat32; }
  std::unique_ptr<ComputeRegion> studentRegion() const override { return std::make_unique<NoRegion>(); }
};

}  // namespace

std::unique_ptr<PrecisionPolicy> makeFp32Precision() { return std::make_unique<Fp32Precision>(); }

}  // namespace distill::precision
