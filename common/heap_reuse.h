// Keeps freed memory in the process for the next tensor of the same size.
//
// A language model's logits are large: [B·T, V] floats at V = 128k and 256
// tokens is 131 MB, and a distillation step allocates and frees several such
// blocks per teacher. glibc serves any block above its mmap threshold (32 MB at
// most) with a fresh mmap and returns it to the kernel on free, so every step
// page-faults and zero-fills each of those blocks again: measured on a 2-core
// machine, a 128k-vocabulary step spent more time in the kernel than in the
// model (bench/heap_reuse.sh). keepFreedMemoryForReuse() turns glibc's mmap path
// off and its trimming of the heap (the reuse PyTorch users get from
// jemalloc or tcmalloc, without their later release): freed blocks stay in
// the heap and the next step reuses them. The resident size then stays at the
// job's peak instead of falling between steps. Only blocks of the main thread,
// where a CPU step's forward and backward run: glibc still maps a block above
// 64 MiB afresh for any other thread (its arenas are 64 MiB heaps).
//
// The user's own choice wins: nothing is changed when DISTILL_MALLOC=system or
// when GLIBC_TUNABLES already sets a glibc.malloc tunable.
#pragma once

#include <string>

namespace distill {

// Returns what was done, for the debug log ("heap reuse on", or why not).
std::string keepFreedMemoryForReuse();

}  // namespace distill
