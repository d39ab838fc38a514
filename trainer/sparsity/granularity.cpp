#include "trainer/sparsity/granularity.h"

#include <regex>

#include "common/error.h"

namespace distill::sparsity {

Granularity parseGranularity(const config::SparsitySpec& spec) {
  using Kind = Granularity::Kind;
  const std::string& name = spec.granularity();
  Granularity g;
  g.name = name;
  static const std::regex kNM("^([0-9]{1,6}):([0-9]{1,6})$");
  std::smatch match;
  if (std::regex_match(name, match, kNM)) {
    g.kind = Kind::kNM;
    g.n = std::stoll(match[1]);
    g.m = std::stoll(match[2]);
    DISTILL_CHECK(g.n > 0 && g.n < g.m, "sparsity.granularity: \"", name, "\" must be N:M with 0 < N < M");
    return g;
  }
  if (name == "unstructured") {
    g.kind = Kind::kUnstructured;
  } else if (name == "blocks") {
    g.kind = Kind::kBlocks;
    DISTILL_CHECK(spec.block_shape_size() == 2 && spec.block_shape(0) > 0 && spec.block_shape(1) > 0,
                  "sparsity.block_shape: must be [rows, columns], both >= 1");
    g.block_rows = spec.block_shape(0);
    g.block_cols = spec.block_shape(1);
  } else if (name == "rows") {
    g.kind = Kind::kRows;
  } else if (name == "columns") {
    g.kind = Kind::kColumns;
  } else if (name == "neurons") {
    g.kind = Kind::kNeurons;
  } else if (name == "heads") {
    g.kind = Kind::kHeads;
  } else {
    DISTILL_FAIL("sparsity.granularity: unknown granularity \"", name,
                 "\" (accepted: unstructured, N:M such as 2:4, blocks, rows, columns, neurons, heads)");
  }
  return g;
}

}  // namespace distill::sparsity
