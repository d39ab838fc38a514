// keepFreedMemoryForReuse: a large block freed and allocated again comes back
// from the heap, without the kernel faulting its pages in again.
#include "common/heap_reuse.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <cstdint>

#include <cstdlib>
#include <cstring>

namespace distill {
namespace {

constexpr size_t kBlockBytes = size_t{128} << 20;  // a [256, 128k] fp32 logits block
constexpr long kPages = static_cast<long>(kBlockBytes / 4096);

long minorFaults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Page faults taken by allocating a block, writing all of it, and freeing it.
long faultsOfOneBlock() {
  const long before = minorFaults();
  void* block = std::malloc(kBlockBytes);
  if (block == nullptr) {
    ADD_FAILURE() << "malloc of " << kBlockBytes << " bytes failed";
    return 0;
  }
  // Page by page, whatever the machine's transparent huge pages: one fault is one 4 KiB page.
  const auto first_page = (reinterpret_cast<uintptr_t>(block) + 4095) & ~uintptr_t{4095};
  madvise(reinterpret_cast<void*>(first_page), kBlockBytes - 4096, MADV_NOHUGEPAGE);
  std::memset(block, 1, kBlockBytes);
  asm volatile("" : : "r"(block) : "memory");  // the writes must happen: no malloc-free elision
  std::free(block);
  return minorFaults() - before;
}

TEST(HeapReuse, ALargeBlockFreedAndAllocatedAgainTakesNoNewPageFaults) {
  unsetenv("DISTILL_MALLOC");
  unsetenv("GLIBC_TUNABLES");
  const long with_defaults = faultsOfOneBlock();  // glibc: a fresh mmap each time
  EXPECT_GT(with_defaults * 2, kPages) << "glibc's defaults should map the block afresh: every page faults";
  EXPECT_EQ(keepFreedMemoryForReuse(), "heap reuse on: large blocks stay in the heap after free");
  faultsOfOneBlock();  // the first block of the heap is faulted in once
  const long reused = faultsOfOneBlock();
  EXPECT_LT(reused * 8, kPages) << reused << " page faults for a reused block of " << kPages
                                << " pages (" << with_defaults << " with glibc's defaults)";
}

TEST(HeapReuse, TheUsersChoiceWins) {
  setenv("DISTILL_MALLOC", "system", 1);
  EXPECT_EQ(keepFreedMemoryForReuse(), "heap reuse off: DISTILL_MALLOC=system");
  unsetenv("DISTILL_MALLOC");
  setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2", 1);
  EXPECT_EQ(keepFreedMemoryForReuse(), "heap reuse off: GLIBC_TUNABLES sets the allocator");
  unsetenv("GLIBC_TUNABLES");
}

}  // namespace
}  // namespace distill
