// What structured export removed from one structure group (a layer's heads or
// neurons). Shared by the removal (structured_export.h) and the report that
// lists it (export_report.h), which needs no LibTorch.
//
//   RemovedUnits r{"layer0.heads", "heads", 4, {1, 3}};   // heads 1 and 3 of 4 are gone
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace distill::checkpoint {

struct RemovedUnits {
  std::string group;             // "layer0.heads"
  std::string kind;              // "heads" or "neurons"
  int64_t before = 0;            // units the group had
  std::vector<int64_t> removed;  // indices (within the group, ascending) of the units removed
};

}  // namespace distill::checkpoint
