#!/usr/bin/env bash
# Benchmark (not a test): a language-model job whose teachers dominate the
# step, with the teachers live on every one of 4 workers (placement
# replicate) against 2 workers served by 2 teacher ranks (placement pool,
# launch/distill-mpirun -n 4 --teacher-ranks 2), measured in one run: 2
# teachers (d 512, 4 layers; TEACHER_D, TEACHER_LAYERS) and a d-128 2-layer
# student over a 2048-token vocabulary, T = 64, bf16, the same global batch
# (GLOBAL, default 8: 2 sequences per worker on 4 workers, 4 on 2; small
# per-worker batches are what long-sequence LLM jobs run, and where a teacher
# rank's batching of every worker's request into one forward pays most).
#
#   bench/teacher_pool.sh [STEPS]        # prints ratios; docs/benchmarks.md has a run
#
# samples/s are the job's own: the time between the checkpoints committed at
# steps STEPS/3 and STEPS (state.json's committed_at_unix), so process
# start-up and model loading are left out. Also the machine's bf16 matmul
# rate, for scale.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$SRC/build/distill"
STEPS="${1:-12}"
FIRST=$((STEPS / 3))
GLOBAL="${GLOBAL:-8}"
WORK="$(mktemp -d /tmp/distill-bench.XXXXXX)"
trap 'pkill -KILL -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS=1

echo "== ceiling (1 thread)"
"$SRC/build/distill_bench_compute" --d-model 512 --layers 1 --heads 8 --batch 2 --seq 64 --repeats 2 | head -1

"$BIN" prepare-data --synthetic language-modeling --out "$WORK/data" --num-samples 2048 --vocab 2048 --length 64 \
  --samples-per-shard 512 --seed 1 >/dev/null
"$BIN" init-model --arch decoder-lm --vocab 2048 --max-len 64 --d-model 128 --layers 2 --heads 4 --d-ff 512 \
  --dropout 0 --seed 1 --out "$WORK/student.pt" >/dev/null
for k in 0 1; do
  "$BIN" init-model --arch decoder-lm --vocab 2048 --max-len 64 --d-model "${TEACHER_D:-512}" \
    --layers "${TEACHER_LAYERS:-4}" --heads 8 --d-ff $((4 * ${TEACHER_D:-512})) \
    --dropout 0 --seed $((10 + k)) --out "$WORK/teacher$k.pt" >/dev/null
done
cat > "$WORK/job.yaml" <<YAML
name: bench
seed: 1
student: {path: $WORK/student.pt}
data: {train: $WORK/data}
training: {max_steps: $STEPS}
optimizer: {lr: 1.0e-3}
distill:
  teachers:
    - {name: t0, path: $WORK/teacher0.pt}
    - {name: t1, path: $WORK/teacher1.pt}
  divergence: reverse_kl
  pool: {top_k: 64, ahead_steps: ${AHEAD:-4}}
checkpoint: {every_steps: $FIRST, keep: 10}
metrics: {port: 0, progress_seconds: 1000}
runtime: {precision: bf16, watchdog_seconds: 600, collective_timeout_seconds: 600}
YAML

committed() {  # committed RUN_DIR STEP -> unix seconds
  /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['committed_at_unix'])" \
    "$(printf '%s/checkpoints/step-%08d/state.json' "$1" "$2")"
}
run() {  # run NAME RANKS BATCH [train args...] -> samples/s between the checkpoints of steps FIRST and STEPS
  local name="$1" ranks="$2" batch="$3"; shift 3
  mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS -np $((ranks + 1)) "$BIN" train \
    "$WORK/job.yaml" --set run_dir="$WORK/$name" --set training.batch_size="$batch" "$@" > "$WORK/$name.log" 2>&1 ||
    { cat "$WORK/$name.log" >&2; exit 1; }
  /usr/bin/python3 -c "print(($STEPS - $FIRST) * $GLOBAL / ($(committed "$WORK/$name" "$STEPS") - $(committed "$WORK/$name" "$FIRST")))"
}

echo "== $STEPS steps, global batch $GLOBAL, 2 teachers (d ${TEACHER_D:-512}, ${TEACHER_LAYERS:-4} layers), bf16"
replicate=$(run replicate 4 $((GLOBAL / 4)) --set distill.placement=replicate)
printf 'replicate, 4 workers:               %.1f samples/s\n' "$replicate"
pool=$(run pool 4 $((GLOBAL / 2)) --teacher-ranks 2)
grep -q "placement pool" "$WORK/pool.log" || { cat "$WORK/pool.log" >&2; exit 1; }
printf 'pool, 2 workers + 2 teacher ranks:  %.1f samples/s\n' "$pool"
replicate2=$(run replicate2 2 $((GLOBAL / 2)) --set distill.placement=replicate)
printf 'replicate, 2 workers:               %.1f samples/s\n' "$replicate2"

echo "== ratios (same run)"
printf 'pool (2+2) / replicate on 4 workers: %.2fx   (target >= 1.3x when teachers dominate the step)\n' \
  "$(/usr/bin/python3 -c "print($pool / $replicate)")"
printf 'pool (2+2) / replicate on 2 workers: %.2fx\n' "$(/usr/bin/python3 -c "print($pool / $replicate2)")"
