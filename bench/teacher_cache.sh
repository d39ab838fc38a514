#!/usr/bin/env bash
# Benchmark (not a test): a multi-epoch language-model job whose teachers
# dominate the step, with the teachers live on every worker (placement
# replicate) against reading their top-k caches (placement cache), measured
# in one run: 2 teachers (d 512, 4 layers; TEACHER_D, TEACHER_LAYERS) and a
# d-128 2-layer student over a 2048-token vocabulary, T = 64, 2 workers,
# batch 16 each, bf16.
#
#   bench/teacher_cache.sh [STEPS]        # prints ratios; docs/benchmarks.md has a run
#   TEACHER_D=768 TEACHER_LAYERS=6 bench/teacher_cache.sh 4
#
# The cache is written first by `distill cache-teachers` (its time and bytes
# per token are reported): the runs compared are what every epoch after the
# first costs. samples/s are the job's own: the time between the checkpoints
# committed at steps STEPS/3 and STEPS (state.json's committed_at_unix), so
# process start-up, model loading and the first steps are left out. Also the
# machine's bf16 matmul rate, for scale.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$SRC/build/distill"
STEPS="${1:-12}"
[ "$STEPS" -ge 3 ] || { echo "STEPS must be at least 3 (checkpoints at STEPS/3 and STEPS)" >&2; exit 2; }
FIRST=$((STEPS / 3))
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
training: {batch_size: 16, max_steps: $STEPS}
optimizer: {lr: 1.0e-3}
distill:
  teachers:
    - {name: t0, path: $WORK/teacher0.pt}
    - {name: t1, path: $WORK/teacher1.pt}
  divergence: reverse_kl
  cache: {top_k: 64}
checkpoint: {every_steps: $FIRST, keep: 10}
metrics: {port: 0, progress_seconds: 1000}
runtime: {precision: bf16, watchdog_seconds: 600, collective_timeout_seconds: 600}
YAML
mpi() { mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS -np 3 "$BIN" "$@"; }

echo "== the teacher pass (distill cache-teachers, 2 workers)"
start=$(date +%s.%N)
mpi cache-teachers "$WORK/job.yaml" --set run_dir="$WORK/pass" > "$WORK/pass.log" 2>&1 || { cat "$WORK/pass.log"; exit 1; }
pass=$(/usr/bin/python3 -c "print($(date +%s.%N) - $start)")
cache_bytes=$(du -sb "$WORK/data/teacher-cache" | cut -f1)
printf 'teacher pass: %.1f s for 2 teachers x 2048 samples x 64 tokens; %d bytes on disk, %.1f bytes per token per teacher\n' \
  "$pass" "$cache_bytes" "$(/usr/bin/python3 -c "print($cache_bytes / (2 * 2048 * 64))")"

committed() {  # committed RUN_DIR STEP -> unix seconds
  /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['committed_at_unix'])" \
    "$(printf '%s/checkpoints/step-%08d/state.json' "$1" "$2")"
}
rate() {  # rate NAME [train args...] -> samples/s between the checkpoints of steps FIRST and STEPS
  local name="$1"; shift
  mpi train "$WORK/job.yaml" --set run_dir="$WORK/$name" "$@" > "$WORK/$name.log" 2>&1 ||
    { cat "$WORK/$name.log" >&2; exit 1; }
  /usr/bin/python3 -c "print(($STEPS - $FIRST) * 32 / ($(committed "$WORK/$name" "$STEPS") - $(committed "$WORK/$name" "$FIRST")))"
}
live=$(rate live --set distill.placement=replicate); printf 'live teachers (replicate): %.1f samples/s\n' "$live"
# The student alone, same data and batch.
alone=$(rate alone --set 'distill.teachers=[]' --set distill.kd_weight=0)
printf 'student alone:             %.1f samples/s\n' "$alone"
cached=$(rate cache --set distill.placement=cache); printf 'from the cache:            %.1f samples/s\n' "$cached"
grep -q "reusing the cache" "$WORK/cache.log" || { echo "the cache was not reused" >&2; exit 1; }

echo "== ratios (same run)"
printf 'cache / live samples/s: %.2fx   (target >= 5x from the second epoch on)\n' \
  "$(/usr/bin/python3 -c "print($cached / $live)")"
printf 'teacher pass / one live epoch: %.2fx\n' "$(/usr/bin/python3 -c "print($pass / (2048 / $live))")"
printf 'cache / student alone samples/s: %.2fx (the distillation loss over the vocabulary and reading the cache)\n' \
  "$(/usr/bin/python3 -c "print($cached / $alone)")"
