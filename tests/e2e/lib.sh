# Shared set-up of the end-to-end scripts that train their own teachers and
# students in runs/<name> (sourced, not a test; ctest skips lib.sh):
#
#   source "$(dirname "$0")/lib.sh"
#   e2e_workdir amalgamation          # OUT=runs/amalgamation, emptied
#   demo_models                       # models/demo and runs/demo/summary.json, made when missing or stale
#   demo_data                         # $OUT/data/train (3000 noisy), $OUT/data/eval (1000 clean)
#   train NAME CONFIG --set ...       # 2 workers, run_dir $OUT/NAME, exported to $OUT/NAME/model
#   accuracy $OUT/NAME/model/model.pt [--classes 0,1]
set -euo pipefail
SRC="${DISTILL_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
cd "$SRC"
BIN="${DISTILL_BIN:-build/distill}"
export OMP_NUM_THREADS=1

e2e_workdir() {
  OUT="runs/$1"
  rm -rf "$OUT"
  mkdir -p "$OUT"
}

# The demo's teachers, student and baseline (e2e.demo makes them; made here
# when they are missing or older than the binary).
demo_models() {
  if [ ! -f runs/demo/summary.json ] || [ "$BIN" -nt runs/demo/summary.json ]; then launch/demo.sh; fi
}

# The demo task's data (launch/demo.sh): the same seeds, so the same samples.
demo_data() {
  "$BIN" prepare-data --synthetic classification --out "$OUT/data/train" --num-samples 3000 --seed 11 >/dev/null
  "$BIN" prepare-data --synthetic classification --out "$OUT/data/eval" --num-samples 1000 --seed 12 \
    --label-noise 0 >/dev/null
}

train() {  # train NAME CONFIG [--set a.b=c]...
  local name="$1" config="$2"; shift 2
  launch/distill-mpirun -n 2 "$config" --set run_dir="$OUT/$name" --set metrics.port=0 "$@" > "$OUT/$name.log" 2>&1 \
    || { tail -30 "$OUT/$name.log"; echo "FAIL: $name training"; exit 1; }
  "$BIN" export "$OUT/$name/checkpoints/latest" --out "$OUT/$name/model" >/dev/null
}

accuracy() {  # accuracy MODEL [--data DIR] [--classes ...]: on $OUT/data/eval unless --data is given
  local model="$1"; shift
  local data=(--data "$OUT/data/eval")
  [ "${1:-}" = "--data" ] && { data=(--data "$2"); shift 2; }
  "$BIN" evaluate --model "$model" "${data[@]}" "$@" | sed -E 's/.*"accuracy": ([0-9.]+).*/\1/'
}
