#!/usr/bin/env bash
# Benchmark (not a test): a large-vocabulary distillation step with the heap
# reuse of common/heap_reuse.h (the default) against glibc's own allocator
# settings (DISTILL_MALLOC=system), measured in one run: Llama 3's vocabulary
# (128256 tokens), a d-64 2-layer teacher in bf16 and a d-32 1-layer student,
# T = 32, 2 workers, batch 8 each, the student pruned as it trains. The logits
# ([256, 128256] fp32, 131 MB) and their temporaries dominate the memory traffic.
#
#   bench/heap_reuse.sh [STEPS]        # prints ratios; docs/benchmarks.md has a run
#
# samples/s come from two runs of different lengths (STEPS and 2*STEPS), so
# process start-up and model loading cancel out. Also the machine's bf16
# matmul rate, for scale, and the seconds the job's 3 processes together spent
# in the kernel.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$SRC/build/distill"
STEPS="${1:-4}"
VOCAB=128256
WORK="$(mktemp -d /tmp/distill-bench.XXXXXX)"
trap 'pkill -KILL -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS=1

echo "== ceiling (1 thread)"
"$SRC/build/distill_bench_compute" --d-model 512 --layers 1 --heads 8 --batch 2 --seq 64 --repeats 2 | head -1

"$BIN" prepare-data --synthetic language-modeling --out "$WORK/data" --num-samples 1024 --vocab "$VOCAB" --length 32 \
  --samples-per-shard 512 --seed 1 >/dev/null
"$BIN" init-model --arch decoder-lm --vocab "$VOCAB" --max-len 32 --d-model 32 --layers 1 --heads 2 --d-ff 64 \
  --dropout 0 --seed 1 --out "$WORK/student.pt" >/dev/null
"$BIN" init-model --arch decoder-lm --vocab "$VOCAB" --max-len 32 --d-model 64 --layers 2 --heads 4 --d-ff 128 \
  --dropout 0 --seed 2 --out "$WORK/teacher.pt" >/dev/null
cat > "$WORK/job.yaml" <<YAML
name: bench
seed: 1
student: {path: $WORK/student.pt}
data: {train: $WORK/data}
training: {batch_size: 8, max_steps: $STEPS}
optimizer: {lr: 1.0e-3}
distill:
  teachers:
    - {name: t0, path: $WORK/teacher.pt}
sparsity: {enabled: true, final_sparsity: 0.5, warmup_steps: 0, cooldown_steps: 0, interval: 1}
checkpoint: {every_steps: 0}
metrics: {port: 0, progress_seconds: 1000}
runtime: {precision: bf16, watchdog_seconds: 600, collective_timeout_seconds: 600}
YAML

run() {  # run STEPS ALLOCATOR -> "wall_seconds kernel_seconds"
  local tag="$2-$1"
  DISTILL_MALLOC="$2" /usr/bin/time -f "%e %S" -o "$WORK/$tag.time" \
    mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS -x DISTILL_MALLOC -np 3 \
    "$BIN" train "$WORK/job.yaml" --set run_dir="$WORK/$tag" --set training.max_steps="$1" \
    > "$WORK/$tag.log" 2>&1 || { cat "$WORK/$tag.log" >&2; exit 1; }
  cat "$WORK/$tag.time"
}
rate() {  # rate ALLOCATOR -> "samples/s kernel_seconds_per_step"
  local short long
  short=($(run "$STEPS" "$1"))
  long=($(run $((2 * STEPS)) "$1"))
  /usr/bin/python3 -c "print($STEPS * 16 / (${long[0]} - ${short[0]}), (${long[1]} - ${short[1]}) / $STEPS)"
}
system=($(rate system)); printf 'glibc defaults (DISTILL_MALLOC=system): %.1f samples/s, %.1f s in the kernel a step\n' "${system[@]}"
reuse=($(rate reuse));   printf 'heap reuse (the default):               %.1f samples/s, %.1f s in the kernel a step\n' "${reuse[@]}"
echo "== ratio (same run)"
printf 'heap reuse / glibc defaults samples/s: %.2fx\n' "$(/usr/bin/python3 -c "print(${reuse[0]} / ${system[0]})")"
