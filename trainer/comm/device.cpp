#include "trainer/comm/device.h"

#include <torch/torch.h>
#ifdef DISTILL_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace distill::comm {

c10::Device workerDevice(int local_worker) {
#ifdef DISTILL_WITH_CUDA
  if (torch::cuda::is_available()) {
    const int count = static_cast<int>(torch::cuda::device_count());
    const auto index = static_cast<c10::DeviceIndex>(local_worker % count);
    // The current device too, so NCCL and every implicit kCUDA use this GPU, not GPU 0.
    c10::cuda::set_device(index);
    return c10::Device(c10::DeviceType::CUDA, index);
  }
#endif
  (void)local_worker;
  return c10::Device(c10::DeviceType::CPU);
}

}  // namespace distill::comm
