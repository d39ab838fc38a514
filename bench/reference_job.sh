#!/usr/bin/env bash
# Benchmark (not a test): the service against the PyTorch script a user would
# write instead (../shared/bench/reference_kd.py), on the same job, measured
# in one run: 3 live teachers (d 256, 4 layers), a d-128 2-layer student
# pruned to 80% on a cubic schedule, 2 workers, batch 32 each, T = 64.
#
#   bench/reference_job.sh [STEPS]        # prints ratios; docs/benchmarks.md has a run
#
# Also the machine's own ceilings (bf16 and fp32 matmul rate, one thread) and
# ZeRO-1 and ZeRO-2 against stage 0 (optimizer bytes per worker, samples/s).
# The service's samples/s come from two runs of different lengths (STEPS and
# 2*STEPS), so process start-up and model loading cancel out.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$SRC/build/distill"
REF="${REFERENCE_KD:-$SRC/../shared/bench/reference_kd.py}"
STEPS="${1:-20}"
WORK="$(mktemp -d /tmp/distill-bench.XXXXXX)"
trap 'pkill -KILL -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS=1

echo "== ceilings and compute rates (1 thread)"
"$SRC/build/distill_bench_compute" --d-model 1024 --layers 2 --heads 16 --batch 8 --seq 128 --repeats 3 | tee "$WORK/compute.txt"

echo "== the PyTorch peer (reference_kd.py, DDP over Gloo, 2 workers)"
ref_rate() {  # ref_rate BF16 -> samples/s
  /usr/bin/python3 "$REF" --workers 2 --threads 1 --steps "$STEPS" --bf16 "$1" --port $((29500 + RANDOM % 1000)) \
    | sed -n 's/.*samples_per_s=\([0-9.]*\).*/\1/p'
}
ref32=$(ref_rate 0); echo "reference fp32: $ref32 samples/s"
ref16=$(ref_rate 1); echo "reference bf16: $ref16 samples/s"

echo "== the service on the same job"
"$BIN" prepare-data --synthetic classification --out "$WORK/data" --num-samples 4096 --vocab 512 --length 64 \
  --classes-count 10 --seed 1 >/dev/null
"$BIN" init-model --arch encoder-classifier --classes 10 --vocab 512 --max-len 64 --d-model 128 --layers 2 --heads 4 \
  --d-ff 512 --dropout 0.1 --seed 1 --out "$WORK/student.pt" >/dev/null
for k in 0 1 2; do
  "$BIN" init-model --arch encoder-classifier --classes 10 --vocab 512 --max-len 64 --d-model 256 --layers 4 \
    --heads 4 --d-ff 1024 --dropout 0.1 --seed $((10 + k)) --out "$WORK/teacher$k.pt" >/dev/null
done
cat > "$WORK/job.yaml" <<YAML
name: bench
run_dir: $WORK/run
seed: 1
student: {path: $WORK/student.pt}
data: {train: $WORK/data}
training: {batch_size: 32, max_steps: $STEPS}
optimizer: {lr: 1.0e-3, weight_decay: 0.01}
distill:
  teachers:
    - {name: t0, path: $WORK/teacher0.pt}
    - {name: t1, path: $WORK/teacher1.pt}
    - {name: t2, path: $WORK/teacher2.pt}
  temperature: 2.0
  combiner: mean
sparsity: {enabled: true, criterion: magnitude, schedule: cubic, final_sparsity: 0.8, interval: 10,
           warmup_steps: 2, cooldown_steps: 4}
checkpoint: {every_steps: 0}
metrics: {port: 0, progress_seconds: 1000}
YAML
service_run() {  # service_run STEPS NAME [--set ...] -> wall seconds
  local steps="$1" name="$2"; shift 2
  local start end
  start=$(date +%s.%N)
  mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS -np 3 "$BIN" train "$WORK/job.yaml" \
    --set run_dir="$WORK/$name-$steps" --set training.max_steps="$steps" --set sparsity.cooldown_steps=$((steps / 5)) \
    "$@" > "$WORK/$name-$steps.log" 2>&1 || { cat "$WORK/$name-$steps.log" >&2; exit 1; }
  end=$(date +%s.%N)
  /usr/bin/python3 -c "print($end - $start)"
}
service_rate() {  # service_rate NAME [--set ...] -> samples/s of the steady state
  local name="$1"; shift
  local short long
  short=$(service_run "$STEPS" "$name" "$@")
  long=$(service_run $((2 * STEPS)) "$name" "$@")
  /usr/bin/python3 -c "print($STEPS * 64 / ($long - $short))"
}
svc32=$(service_rate fp32 --set runtime.precision=fp32); printf 'service fp32: %.1f samples/s\n' "$svc32"
svc16=$(service_rate bf16 --set runtime.precision=bf16); printf 'service bf16: %.1f samples/s\n' "$svc16"
zero1=$(service_rate zero1 --set runtime.precision=bf16 --set runtime.zero_stage=1)
printf 'service bf16 ZeRO-1: %.1f samples/s\n' "$zero1"
zero2=$(service_rate zero2 --set runtime.precision=bf16 --set runtime.zero_stage=2)
printf 'service bf16 ZeRO-2: %.1f samples/s\n' "$zero2"
bytes() { sed -n 's/.*AdamW state on this worker: \([0-9]*\) bytes.*/\1/p' "$1" | head -1; }
b0=$(bytes "$WORK/bf16-$STEPS.log"); b1=$(bytes "$WORK/zero1-$STEPS.log"); b2=$(bytes "$WORK/zero2-$STEPS.log")

echo "== ratios (same run)"
printf 'service fp32 / reference fp32:        %.2fx\n' "$(/usr/bin/python3 -c "print($svc32 / $ref32)")"
printf 'service bf16 / reference fp32:        %.2fx   (target >= 10x)\n' "$(/usr/bin/python3 -c "print($svc16 / $ref32)")"
printf 'service bf16 / reference bf16:        %.2fx   (target >= 1.5x)\n' "$(/usr/bin/python3 -c "print($svc16 / $ref16)")"
printf 'ZeRO-1 optimizer bytes per worker:    %.2fx stage 0  (target <= 0.55x)\n' "$(/usr/bin/python3 -c "print($b1 / $b0)")"
printf 'ZeRO-1 samples/s:                     %.2fx stage 0  (target >= 0.9x)\n' "$(/usr/bin/python3 -c "print($zero1 / $svc16)")"
printf 'ZeRO-2 optimizer bytes per worker:    %.2fx stage 0\n' "$(/usr/bin/python3 -c "print($b2 / $b0)")"
printf 'ZeRO-2 samples/s:                     %.2fx stage 0\n' "$(/usr/bin/python3 -c "print($zero2 / $svc16)")"
