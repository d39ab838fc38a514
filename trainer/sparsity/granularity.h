// What a mask prunes as one unit: single entries, N:M patterns, blocks, rows,
// columns, or the structure groups of a model (attention heads, FFN neurons).
//
//   Granularity g = parseGranularity(spec.granularity(), spec.block_shape());  // "2:4", "heads", ...
//   if (g.kind == Granularity::Kind::kNM) ... g.n, g.m
#pragma once

#include <cstdint>
#include <string>

#include "proto/config.pb.h"

namespace distill::sparsity {

struct Granularity {
  enum class Kind { kUnstructured, kNM, kBlocks, kRows, kColumns, kNeurons, kHeads };
  Kind kind = Kind::kUnstructured;
  std::string name = "unstructured";
  int64_t n = 0, m = 0;                      // kNM: keep n of every m consecutive entries of the last dim
  int64_t block_rows = 1, block_cols = 1;    // kBlocks
  // Heads and neurons are ranked per structure group, not per parameter.
  bool usesGroups() const { return kind == Kind::kNeurons || kind == Kind::kHeads; }
  // The structure-group kind ("heads", "neurons") for usesGroups().
  std::string groupKind() const { return kind == Kind::kHeads ? "heads" : "neurons"; }
};

// Throws distill::Error naming sparsity.granularity (or sparsity.block_shape)
// when the name is unknown or malformed.
Granularity parseGranularity(const config::SparsitySpec& spec);

}  // namespace distill::sparsity
