#!/usr/bin/env bash
# Dynamic Sparsification's target: one demo job with sparsity.levels
# [0.5, 0.7, 0.9] against three jobs trained separately at each sparsity, the
# same config otherwise, at equal total compute: the levels job runs the three
# separate jobs' epochs together (3 x 6), one level per step, so each level
# gets as many steps of its own as a separate job. Each level is exported
# (--level) and evaluated on the clean eval set; each must be within 1
# accuracy point of the separate model of its sparsity (or better).
# LEVEL_EPOCHS / SEPARATE_EPOCHS / LEVEL_ARGS change the budgets and the
# levels job's settings, for the measurements of docs/benchmarks.md.
set -euo pipefail
SRC="${DISTILL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$SRC"
BIN="${DISTILL_BIN:-build/distill}"
export OMP_NUM_THREADS=1
# The demo's data and teachers (e2e.demo makes them; run it if they are missing or stale).
if [ ! -f runs/demo/summary.json ] || [ "$BIN" -nt runs/demo/summary.json ]; then launch/demo.sh; fi

train() {  # train NAME --set ...
  local name="$1"; shift
  rm -rf "runs/demo-$name"
  launch/distill-mpirun -n 2 configs/demo.yaml --set run_dir="runs/demo-$name" --set metrics.port=0 "$@" \
    > "runs/demo-$name.log" 2>&1 || { tail -30 "runs/demo-$name.log"; echo "FAIL: $name training"; exit 1; }
}

accuracy() {  # accuracy RUN OUT [--level S]
  local run="$1" out="$2"; shift 2
  "$BIN" export "runs/demo-$run/checkpoints/latest" --out "runs/demo-$run/$out" "$@" >/dev/null
  "$BIN" evaluate --model "runs/demo-$run/$out/model.pt" --data data/demo/eval | sed -E 's/.*"accuracy": ([0-9.]+).*/\1/'
}

train levels --set "sparsity.levels=[0.5, 0.7, 0.9]" --set sparsity.final_sparsity=0.9 \
  --set training.epochs="${LEVEL_EPOCHS:-18}" ${LEVEL_ARGS:-}
status=0
for level in 0.5 0.7 0.9; do
  train "separate-$level" --set sparsity.final_sparsity="$level" --set training.epochs="${SEPARATE_EPOCHS:-6}"
  separate=$(accuracy "separate-$level" student)
  nested=$(accuracy levels "student-$level" --level "$level")
  sparsity=$(sed -nE 's/.*"masked_sparsity": ([0-9.e-]+).*/\1/p' "runs/demo-levels/student-$level/sparsity_report.json")
  printf 'level %s  sparsity %.4f  accuracy %.4f  separately trained %.4f  difference %+.4f\n' \
    "$level" "$sparsity" "$nested" "$separate" "$(/usr/bin/python3 -c "print($nested - $separate)")"
  /usr/bin/python3 -c "import sys; sys.exit(0 if abs($sparsity - $level) <= 0.005 else 1)" \
    || { echo "FAIL: level $level exported at sparsity $sparsity"; status=1; }
  /usr/bin/python3 -c "import sys; sys.exit(0 if $nested >= $separate - 0.01 else 1)" \
    || { echo "FAIL: level $level accuracy $nested, more than 1 point below the separate model's $separate"; status=1; }
done
[ "$status" -eq 0 ] && echo "PASS dynamic_sparsity (e2e)"
exit "$status"
