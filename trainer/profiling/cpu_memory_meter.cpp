#include "trainer/profiling/cpu_memory_meter.h"

#include <algorithm>
#include <atomic>

#include <c10/core/CPUAllocator.h>

#include "common/error.h"

namespace distill::trainer {
namespace {

// Lives for the whole process: a tensor it allocated may outlive the meter.
class CountingAllocator final : public c10::Allocator {
 public:
  c10::Allocator* base = nullptr;
  std::atomic<int64_t> current{0}, peak{0};

  c10::DataPtr allocate(size_t bytes) const override {
    auto* record = new Record{base->allocate(bytes), static_cast<int64_t>(bytes), this};
    const int64_t now = const_cast<CountingAllocator*>(this)->current.fetch_add(record->bytes) + record->bytes;
    auto& top = const_cast<CountingAllocator*>(this)->peak;
    for (int64_t seen = top.load(); now > seen && !top.compare_exchange_weak(seen, now);) {
    }
    void* data = record->inner.get();
    const c10::Device device = record->inner.device();
    return {data, record, &release, device};
  }

 private:
  struct Record {
    c10::DataPtr inner;
    int64_t bytes;
    const CountingAllocator* owner;
  };
  static void release(void* ctx) {
    auto* record = static_cast<Record*>(ctx);
    const_cast<CountingAllocator*>(record->owner)->current.fetch_sub(record->bytes);
    delete record;
  }
};

CountingAllocator& counting() {
  static auto* allocator = new CountingAllocator;  // never destroyed (see above)
  return *allocator;
}

constexpr uint8_t kPriority = 200;  // above the default CPU allocator's
std::atomic<bool> active{false};

}  // namespace

CpuMemoryMeter::CpuMemoryMeter() {
  DISTILL_CHECK(!active.exchange(true), "CpuMemoryMeter: one meter at a time");
  CountingAllocator& a = counting();
  if (a.base == nullptr) a.base = c10::GetCPUAllocator();
  c10::SetCPUAllocator(&a, kPriority);
  a.peak = a.current.load();
}

CpuMemoryMeter::~CpuMemoryMeter() {
  c10::SetCPUAllocator(counting().base, kPriority);
  active = false;
}

int64_t CpuMemoryMeter::current() const { return counting().current.load(); }
int64_t CpuMemoryMeter::peak() const { return counting().peak.load(); }
void CpuMemoryMeter::resetPeak() { counting().peak = counting().current.load(); }

}  // namespace distill::trainer
