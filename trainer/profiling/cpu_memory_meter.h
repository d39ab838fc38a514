// Counts the bytes of CPU tensors while a meter is alive: the CPU allocator
// is wrapped, so current() and peak() see every CPU tensor allocated after the
// meter was made (and until it is gone). For benchmarks and memory tests;
// LibTorch's CPU allocator keeps no statistics of its own.
//
//   trainer::CpuMemoryMeter meter;
//   const int64_t before = meter.current();
//   meter.resetPeak();
//   loss.backward();
//   const int64_t extra = meter.peak() - before;   // the most bytes held at once above `before`
#pragma once

#include <cstdint>

namespace distill::trainer {

class CpuMemoryMeter {
 public:
  CpuMemoryMeter();   // installs the counting allocator; one meter at a time
  ~CpuMemoryMeter();  // puts the previous allocator back
  CpuMemoryMeter(const CpuMemoryMeter&) = delete;
  CpuMemoryMeter& operator=(const CpuMemoryMeter&) = delete;

  int64_t current() const;  // bytes of counted tensors alive now
  int64_t peak() const;     // the most at once since the meter was made or resetPeak()
  void resetPeak();
};

}  // namespace distill::trainer
