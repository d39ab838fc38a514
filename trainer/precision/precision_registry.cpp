#include <fstream>
#include <sstream>

#include <torch/script.h>

#include "common/error.h"
#include "trainer/precision/precision_variants.h"

namespace distill::precision {

void PrecisionPolicy::prepareTeacher(torch::jit::Module& teacher) const {
  if (teacherDtype() != torch::kFloat32) teacher.to(teacherDtype());
}

bool cpuHasNativeBf16() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line);
    std::string flag;
    while (words >> flag) {
      if (flag == "avx512_bf16" || flag == "amx_bf16") return true;
    }
    return false;
  }
  return false;
}

std::unique_ptr<PrecisionPolicy> makePrecisionPolicy(const std::string& name, c10::Device device) {
  if (name == "fp32") return makeFp32Precision();
  if (name == "bf16") {
    // Without native bf16 the CPU emulates it, slower than fp32: refuse rather than run slowly.
    DISTILL_CHECK(device.is_cuda() || cpuHasNativeBf16(),
                  "runtime.precision: bf16 needs a CPU with AVX512-BF16 or AMX-BF16 (this one has neither, so bf16 "
                  "would be emulated and slower than fp32); use fp32");
    return makeBf16Precision(device);
  }
  if (name == "fp16") {
    DISTILL_CHECK(device.is_cuda(), "runtime.precision: fp16 runs on CUDA only (with loss scaling); this worker "
                  "computes on the CPU: use bf16 or fp32");
    return makeFp16Precision(device);
  }
  DISTILL_FAIL("runtime.precision: unknown precision \"", name, "\" (accepted: fp32, bf16, fp16)");
}

}  // namespace distill::precision
