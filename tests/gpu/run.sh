#!/usr/bin/env bash
# The GPU suite in one go, for a machine with an NVIDIA GPU, CUDA's nvcc and a
# Python whose torch is a CUDA build (its LibTorch is the one linked):
#
#   tests/gpu/fetch_debs.sh      # once, on the Debian machine: the C++ dependencies as .debs
#   tests/gpu/run.sh             # on the GPU machine: build, cases, benchmark
#
# It unpacks gpu-debs/ into a private prefix (tests/gpu/prefix.sh), builds
# with -DDISTILL_CUDA=ON into build-gpu/, runs every tests/gpu/*.sh case
# (each prints PASS or fails) after the ~1B decoder step benchmark and the
# 2:4 semi-structured matmul benchmark (bench/gpu_semi_structured.py), and
# writes the log and a summary under $OUT (default build-gpu/out).
# Ends with "N passed, M failed"; exits non-zero when a case failed.
set -uo pipefail
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${GPU_BUILD:-$SRC/build-gpu}"
OUT="${OUT:-$BUILD/out}"
mkdir -p "$OUT" "$BUILD"
exec > >(tee -a "$OUT/gpu-suite.log") 2>&1
source "$SRC/tests/gpu/prefix.sh"

echo "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
PYTHON="${DISTILL_PYTHON:-$(command -v python3)}"
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"
command -v nvcc >/dev/null || { [ -x /usr/local/cuda/bin/nvcc ] && export PATH="/usr/local/cuda/bin:$PATH"; }

echo "== build"
start=$(date +%s)
generator=(); keep_going=(-k)          # make: keep going, so one run shows every compile error
if command -v ninja >/dev/null; then generator=(-G Ninja); keep_going=(-k 0); fi
cmake -S "$SRC" -B "$BUILD" "${generator[@]}" -DDISTILL_CUDA=ON -DDISTILL_BUILD_TESTS=OFF -DPython3_EXECUTABLE="$PYTHON" \
  -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-90}" "${CMAKE_DEPS_ARGS[@]}" > "$OUT/cmake.log" 2>&1 \
  || { tail -60 "$OUT/cmake.log"; echo "0 passed, 1 failed"; exit 1; }
cmake --build "$BUILD" -j "$(nproc)" --target distill distill_bench_gpu_step -- "${keep_going[@]}" > "$OUT/build.log" 2>&1 \
  || { grep -E "error|Error" -A3 "$OUT/build.log" | head -120; echo "0 passed, 1 failed"; exit 1; }
echo "built in $(( $(date +%s) - start )) s"

echo "== benchmark: ~1B decoder student step"
timeout -k 5 120 "$BUILD/distill_bench_gpu_step" ${GPU_BENCH_ARGS:-} 2>&1 | tee "$OUT/bench-gpu-step.txt" \
  || echo "benchmark failed"
echo "== benchmark: 2:4 semi-structured matmul against dense at the student's shapes"
timeout -k 5 120 "$PYTHON" "$SRC/bench/gpu_semi_structured.py" 2>&1 | tee "$OUT/bench-semi-structured.txt" \
  || echo "benchmark failed"
echo "== cases"
export DISTILL_BIN="$BUILD/distill" DISTILL_SOURCE_DIR="$SRC" DISTILL_PYTHON="$PYTHON"
passed=0; failed=0; failures=()
for case in "$SRC"/tests/gpu/*.sh; do
  name="$(basename "$case" .sh)"
  case "$name" in run|lib|prefix|fetch_debs) continue ;; esac
  start=$(date +%s)
  if timeout -k 5 120 bash "$case" > "$OUT/case-$name.log" 2>&1; then
    passed=$((passed + 1)); echo "PASS $name ($(( $(date +%s) - start )) s)"
  else
    failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name ($(( $(date +%s) - start )) s)"
    tail -40 "$OUT/case-$name.log"
  fi
done

echo "${passed} passed, ${failed} failed${failures:+: ${failures[*]}}"
[ "$failed" -eq 0 ]
