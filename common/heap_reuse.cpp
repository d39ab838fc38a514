#include "common/heap_reuse.h"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace distill {

std::string keepFreedMemoryForReuse() {
  const char* choice = std::getenv("DISTILL_MALLOC");
  if (choice != nullptr && std::strcmp(choice, "system") == 0) return "heap reuse off: DISTILL_MALLOC=system";
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr)
    return "heap reuse off: GLIBC_TUNABLES sets the allocator";
#if defined(__GLIBC__)
  // Every block from the heap (no mmap), and the heap's top never trimmed
  // (-1: mallopt(3)). A bounded threshold is not enough: at V = 128k the
  // blocks freed at the top of the heap between two steps pass 1 GiB, and a
  // 1 GiB threshold left most of the page faults in place.
  if (mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, -1) == 1)
    return "heap reuse on: large blocks stay in the heap after free";
  return "heap reuse off: mallopt refused";
#else
  return "heap reuse off: not glibc";
#endif
}

}  // namespace distill
