# Shared set-up of the multi-rank tests: a tiny task, tiny models, a job config.
# Sourced by each test; not a test itself (ctest runs tests/mpi/*.sh except lib.sh).
set -euo pipefail
SRC="${DISTILL_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
BIN="${DISTILL_BIN:-$SRC/build/distill}"
PY="${DISTILL_PYTHON:-/usr/bin/python3}"  # the GPU suite names the python that has torch
export OMP_NUM_THREADS=1
WORK="$(mktemp -d /tmp/distill-test.XXXXXX)"
cleanup() {
  # Nothing of ours may outlive the test.
  pkill -KILL -f "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# mpirun for WORKERS workers plus the coordinator, with a timeout.
run_job() {  # run_job WORKERS CONFIG [args...]; killed after DISTILL_JOB_TIMEOUT seconds (300)
  local workers="$1"; shift
  timeout -k 5 "${DISTILL_JOB_TIMEOUT:-300}" mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS \
    -x DISTILL_FAULT_MASK_MISMATCH -x DISTILL_FAULT_ABORT_AFTER_COMMIT -x DISTILL_TRACE_SAMPLES \
    -np "$((workers + 1))" "$BIN" train "$@"
}

# Small classification data and models in $WORK.
make_tiny_task() {
  "$BIN" prepare-data --synthetic classification --out "$WORK/data/train" --num-samples 512 --seed 1 >/dev/null
  "$BIN" prepare-data --synthetic classification --out "$WORK/data/eval" --num-samples 128 --seed 2 \
    --label-noise 0 >/dev/null
  "$BIN" init-model --arch encoder-classifier --classes 6 --d-model 32 --layers 1 --heads 2 --d-ff 64 \
    --dropout "${DROPOUT:-0.0}" --seed 3 --out "$WORK/student.pt" >/dev/null
  "$BIN" init-model --arch encoder-classifier --classes 6 --d-model 32 --layers 1 --heads 2 --d-ff 64 \
    --dropout 0.0 --seed 4 --out "$WORK/teacher.pt" >/dev/null
}

# A tiny language-modeling task: data at DIR (vocabulary 96, 16 tokens, 256
# samples in shards of 64) and decoders for it (d_ff defaults to 2 * d_model).
make_tiny_lm_data() {  # make_tiny_lm_data DIR
  "$BIN" prepare-data --synthetic language-modeling --vocab 96 --length 16 --num-samples 256 --samples-per-shard 64 \
    --out "$1" >/dev/null || fail "prepare-data $1"
}
tiny_decoder() {  # tiny_decoder OUT SEED D_MODEL LAYERS [D_FF [VOCAB]]
  "$BIN" init-model --arch decoder-lm --vocab "${6:-96}" --max-len 16 --d-model "$3" --layers "$4" --heads 2 \
    --d-ff "${5:-$(($3 * 2))}" --dropout 0 --seed "$2" --out "$1" >/dev/null || fail "init-model $1"
}

# A job config over the tiny task; extra YAML lines may follow on stdin.
write_config() {  # write_config FILE RUN_DIR
  cat > "$1" <<YAML
name: test
run_dir: $2
seed: 5
student: {path: $WORK/student.pt}
data: {train: $WORK/data/train, eval: $WORK/data/eval}
training: {batch_size: 8, max_steps: 6}
optimizer: {lr: 0.003, warmup_steps: 2, weight_decay: 0.01}
distill:
  teachers:
    - {name: t0, path: $WORK/teacher.pt}
  combiner: confidence
sparsity: {enabled: true, final_sparsity: 0.5, warmup_steps: 1, cooldown_steps: 1, interval: 2}
checkpoint: {every_steps: 0, keep: 2}
metrics: {port: 0, progress_seconds: 1}
runtime: {watchdog_seconds: 20, collective_timeout_seconds: 30}
YAML
  cat >> "$1"
}

compare() { "$PY" "$SRC/tests/tools/compare_safetensors.py" "$@"; }

# refused PATTERN COMMAND ARGS...: `distill COMMAND ARGS` must fail, and its
# output (in $WORK/bad.log) name PATTERN.
refused() {
  local pattern="$1"; shift
  if "$BIN" "$@" > "$WORK/bad.log" 2>&1; then fail "distill accepted: $*"; fi
  grep -q -- "$pattern" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "expected: $pattern"; }
}

# same_moefied DIR_A DIR_B: two distill moefy outputs agree: every expert
# weight bit for bit (the neuron order is decided on exact counts), the
# routers within 1e-3 (fitted by Adam on gradients summed in another order).
same_moefied() {
  "$PY" - "$SRC" "$1/model.safetensors" "$2/model.safetensors" <<'PY'
import os, sys
import numpy as np
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "unit"))
from read_safetensors import read
one, two = read(sys.argv[2])[1], read(sys.argv[3])[1]
assert sorted(one) == sorted(two)
for name in one:
    a, b = one[name][2], two[name][2]
    if "router" in name:
        assert np.abs(a - b).max() < 1e-3, (name, np.abs(a - b).max())
    else:
        assert (a == b).all(), name
PY
}

# train_moefied DIR DATA TENSOR: the moefied student DIR/model.pt (distill
# moefy's output) trained for 3 steps by 2 workers on DATA, in $WORK/run
# (log: $WORK/train.log); TENSOR, an expert weight, must move (experts_trained).
train_moefied() {
  cat > "$WORK/job.yaml" <<YAML
name: moefied
run_dir: $WORK/run
seed: 5
student: {path: $1/model.pt}
data: {train: $2}
training: {batch_size: 8, max_steps: 3}
optimizer: {lr: 0.001}
checkpoint: {every_steps: 0}
metrics: {port: 0}
runtime: {watchdog_seconds: 20, collective_timeout_seconds: 30}
YAML
  run_job 2 "$WORK/job.yaml" > "$WORK/train.log" 2>&1 || { cat "$WORK/train.log"; return 1; }
  experts_trained "$1/model.safetensors" "$WORK/run/checkpoints/latest/model.safetensors" "$3"
}

# experts_trained BEFORE AFTER TENSOR: training a moefied model (distill moefy)
# moved TENSOR, an expert weight, and its checkpoint AFTER holds no router
# (routers are buffers, not trained parameters).
experts_trained() {
  "$PY" - "$SRC" "$@" <<'PY'
import os, sys
import numpy as np
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "unit"))
from read_safetensors import read
before, after, name = read(sys.argv[2])[1], read(sys.argv[3])[1], sys.argv[4]
assert not any("router" in n for n in after), "the routers are buffers, not trained parameters"
assert np.abs(after[name][2] - before[name][2]).max() > 0, f"the experts did not train ({name})"
PY
}

# crash_and_resume NAME STEP CONFIG [args...]: a 2-worker run in $WORK/NAME that
# dies right after committing its step-STEP checkpoint ($WORK/NAME-broken.log),
# then the same run with --resume ($WORK/NAME-resumed.log).
crash_and_resume() {
  local name="$1" step="$2" config="$3" code
  shift 3
  set +e
  DISTILL_FAULT_ABORT_AFTER_COMMIT="$step" run_job 2 "$config" --set run_dir="$WORK/$name" "$@" \
    > "$WORK/$name-broken.log" 2>&1
  code=$?
  set -e
  [ "$code" -ne 0 ] || { cat "$WORK/$name-broken.log"; fail "the interrupted run did not fail"; }
  [ "$(readlink "$WORK/$name/checkpoints/latest")" = "$(printf 'step-%08d' "$step")" ] \
    || fail "latest is not step $step after the crash"
  no_process_left
  run_job 2 "$config" --set run_dir="$WORK/$name" "$@" --resume > "$WORK/$name-resumed.log" 2>&1 \
    || { cat "$WORK/$name-resumed.log"; fail "resumed run"; }
}

# same_latest RUN_A RUN_B FILE...: each FILE.safetensors of the two runs' latest checkpoints is bitwise equal.
same_latest() {
  local a="$1" b="$2" file
  shift 2
  for file in "$@"; do
    compare "$a/checkpoints/latest/$file.safetensors" "$b/checkpoints/latest/$file.safetensors" --exact \
      || fail "$file differs from the uninterrupted run's"
  done
}

no_process_left() {
  sleep 1
  if pgrep -f "$WORK" >/dev/null; then
    pgrep -af "$WORK" >&2
    fail "processes left running"
  fi
}

# Waits (up to 60 s) until LOG shows the job's first progress line.
wait_for_training() {
  for _ in $(seq 1 600); do
    grep -qE "^step [0-9]+/" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$1"
  fail "the job did not start training"
}

# kill_and_wait JOB VICTIM: kill -9 the victim, wait for the job (a background
# pid); sets CODE (the job's exit status) and ELAPSED (seconds from the kill).
kill_and_wait() {
  local start
  start=$(date +%s)
  kill -9 "$2"
  set +e
  wait "$1"
  CODE=$?
  set -e
  ELAPSED=$(( $(date +%s) - start ))
}

# The PID of the process of world rank R whose command line mentions PATTERN.
pid_of_rank() {  # pid_of_rank R PATTERN
  local pid
  for pid in $(pgrep -f "$2"); do
    if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
      echo "$pid"
      return 0
    fi
  done
  fail "no process with world rank $1"
}

# Installs the npm packages of DIR/package.json, at the versions of its
# package-lock.json, into the cache directory CACHE_DIR once (again when the
# lock file changes; /tmp/distill-<name> when CACHE_DIR's parent is not
# writable). PROBE, relative to the cache, is a file a complete install has.
# Sets CACHE. Needs the npm registry on the first run.
npm_cache() {  # npm_cache DIR CACHE_DIR PROBE
  local here="$1" probe="$3"
  CACHE="$2"
  mkdir -p "$(dirname "$CACHE")" 2>/dev/null && [ -w "$(dirname "$CACHE")" ] || CACHE="/tmp/distill-$(basename "$CACHE")"
  CACHE="$(cd "$(dirname "$CACHE")" && pwd)/$(basename "$CACHE")"  # absolute: callers link to it
  if cmp -s "$here/package-lock.json" "$CACHE/package-lock.json" && [ -f "$CACHE/$probe" ]; then return 0; fi
  echo "installing the npm packages of $here into $CACHE"
  local fresh="$WORK/npm"
  mkdir -p "$fresh"
  cp "$here/package.json" "$here/package-lock.json" "$fresh/"
  # npm ci installs exactly what the lock file says, and fails if it disagrees with package.json.
  (cd "$fresh" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
    fail "npm ci of $here/package.json failed (is the npm registry reachable?)"
  rm -rf "$CACHE"
  mkdir -p "$(dirname "$CACHE")"
  mv "$fresh" "$CACHE"
}
