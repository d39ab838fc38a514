#!/usr/bin/env bash
# Builds the fuzz targets into build/fuzz (clang, libFuzzer, ASan + UBSan);
# launch/test.sh runs it before ctest. About 6 minutes on 2 cores the first time.
#
#   tests/fuzz/build.sh            # then: tests/fuzz/fuzz.sh config_yaml_fuzz 600
set -euo pipefail
cd "$(dirname "$0")/../.."
JOBS="${DISTILL_BUILD_JOBS:-$(nproc)}"
cmake -S . -B build/fuzz -DDISTILL_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/fuzz -j "$JOBS" --target distill_fuzz_all
