#!/usr/bin/env bash
# Runs one fuzz target for a bounded time from its committed corpus
# (tests/fuzz/corpus/<target>: seeds and regression-* inputs that once
# crashed), growing a scratch copy, never the committed one. Exit 0: no crash,
# no leak, no timeout and no uncaught exception; otherwise libFuzzer's report
# and the input that failed, kept under $DISTILL_FUZZ_ARTIFACTS (default
# build/fuzz/artifacts) for a regression test.
#
#   tests/fuzz/fuzz.sh config_yaml_fuzz 40        # CI: 40 s per target (ctest -L fuzz)
#   tests/fuzz/fuzz.sh tokenizer_json_fuzz 3600   # a longer session
set -euo pipefail
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
target="$1"; seconds="${2:-40}"
bin="${DISTILL_FUZZ_DIR:-$SRC/build/fuzz}/$target"
if [ ! -x "$bin" ]; then
  echo "fuzz: $bin is missing: build the fuzz targets first (tests/fuzz/build.sh; launch/test.sh does)" >&2
  exit 1
fi
artifacts="${DISTILL_FUZZ_ARTIFACTS:-$SRC/build/fuzz/artifacts}/$target"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts" "$work/corpus" "$work/tmp"
cp "$SRC/tests/fuzz/corpus/$target"/* "$work/corpus/"
# One process, -timeout per input (a hang is a failure), a memory ceiling
# well under the machine's (an input that makes a parser allocate without
# bound is a failure too), inputs up to 64 KiB.
status=0
TMPDIR="$work/tmp" ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
  "$bin" "$work/corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=3072 -malloc_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$work/log" 2>&1 || status=$?
tail -n 60 "$work/log"
if [ "$status" -ne 0 ]; then
  echo "fuzz: $target failed (exit $status); the input is in $artifacts/" >&2
  exit 1
fi
echo "fuzz: $target: no failure in $seconds s ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log" | grep -o '[0-9]*$') inputs)"
