// The device a worker computes on. On a CUDA build with GPUs, worker i of a
// node binds GPU (i mod count), its local worker index among the workers of its
// node, and makes it the current CUDA device; otherwise every worker runs on the CPU.
// Call it before connecting the WorkerGroup.
//
//   c10::Device device = workerDevice(local_worker);
#pragma once

#include <c10/core/Device.h>

namespace distill::comm {

c10::Device workerDevice(int local_worker);

}  // namespace distill::comm
