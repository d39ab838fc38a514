// fp16 (CUDA only): like bf16, with fp16's narrower range made safe by
// dynamic loss scaling (loss_scaler.h). Teachers run in fp16.
#include "trainer/precision/autocast_region.h"
#include "trainer/precision/loss_scaler.h"
#include "trainer/precision/precision_variants.h"

namespace distill::precision {
namespace {

class Fp16Precision final : public PrecisionPolicy {
 public:
  explicit Fp16Precision(c10::Device device) : device_(device) {}
  std::string name() const override { return "fp16"; }
  torch::ScalarType teacherDtype() const override { return torch::kFloat16; }
  std::unique_ptr<ComputeRegion> studentRegion() const override {
    return std::make_unique<AutocastRegion>(device_.type(), torch::kFloat16);
  }
  torch::Tensor scaleLoss(const torch::Tensor& loss) override { return loss * scaler_.scale(); }
  bool unscaleGradients(const std::vector<sparsity::NamedTensor>& params) override { return scaler_.unscale(params); }
  double lossScale() const override { return scaler_.scale(); }

 private:
  c10::Device device_;
  DynamicLossScaler scaler_;
};

}  // namespace

std::unique_ptr<PrecisionPolicy> makeFp16Precision(c10::Device device) {
  return std::make_unique<Fp16Precision>(device);
}

}  // namespace distill::precision
