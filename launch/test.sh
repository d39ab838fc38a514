#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit (GoogleTest),
# multi-rank (real mpirun, Gloo), end to end (the demo, a Hugging Face Llama on
# real text), metrics (promtool, Prometheus, Grafana), Slurm, tokenizers
# against Hugging Face tokenizers, and the fuzz targets (libFuzzer, 40 s each).
#
#   launch/test.sh                 # everything
#   launch/test.sh -L unit         # extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
launch/setup.sh
echo "test: building the tests and benchmarks"
cmake --build build -j "${DISTILL_BUILD_JOBS:-$(nproc)}"
echo "test: building the fuzz targets (clang, sanitizers) into build/fuzz"
tests/fuzz/build.sh
export OMP_NUM_THREADS=1
# Unit and fuzz tests run one per core; every script test is RUN_SERIAL (it runs alone).
ctest --test-dir build --output-on-failure --timeout 1500 -j "${DISTILL_TEST_JOBS:-$(nproc)}" "$@"
