// bf16: teachers hold bf16 weights (converted once, run in inference mode);
// the student's forward runs under autocast, so its matmuls compute in bf16
// from the fp32 parameters, which stay the master copy: gradients, AdamW
// moments, masks and checkpoints are fp32. bf16 has fp32's exponent range, so
// no loss scaling is needed.
#include "trainer/precision/autocast_region.h"
#include "trainer/precision/precision_variants.h"

namespace distill::precision {
namespace {

class Bf16Precision final : public PrecisionPolicy {
 public:
  explicit Bf16Precision(c10::Device device) : device_(device) {}
  std::string name() const override { return "bf16"; }
  torch::ScalarType teacherDtype() const override { return torch::kBFloat16; }
  std::unique_ptr<ComputeRegion> studentRegion() const override {
    return std::make_unique<AutocastRegion>(device_.type(), torch::kBFloat16);
  }

 private:
  c10::Device device_;
};

}  // namespace

std::unique_ptr<PrecisionPolicy> makeBf16Precision(c10::Device device) {
  return std::make_unique<Bf16Precision>(device);
}

}  // namespace distill::precision
