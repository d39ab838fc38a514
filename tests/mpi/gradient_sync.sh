#!/usr/bin/env bash
# Every way of combining gradients gives the 1-worker result: 2 workers with
# batch 8 end with the weights and masks of 1 worker with batch 16 (dropout
# off, same seed) whether gradients go in many small buckets during backward
# (c10d Reducer), in one flat all-reduce after it, with the AdamW state
# sharded (ZeRO-1), with gradients sharded too (ZeRO-2), as 2 accumulated
# micro-batches, or with activation checkpointing. A ZeRO-1 checkpoint
# holds one optimizer shard per worker that together equal the unsharded
# state, and resumes unsharded. bf16 follows the fp32 run.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null

run_ok() {  # run_ok NAME WORKERS [args...]
  local name="$1" workers="$2"; shift 2
  run_job "$workers" "$WORK/job.yaml" --set run_dir="$WORK/$name" "$@" > "$WORK/$name.log" 2>&1 \
    || { cat "$WORK/$name.log"; fail "$name run"; }
}
same_as_one() {  # same_as_one NAME BASELINE ATOL
  compare "$WORK/$1/checkpoints/latest/model.safetensors" "$WORK/$2/checkpoints/latest/model.safetensors" \
    --atol "$3" || fail "$1: weights differ from $2"
  compare "$WORK/$1/checkpoints/latest/masks.safetensors" "$WORK/$2/checkpoints/latest/masks.safetensors" \
    --exact || fail "$1: masks differ from $2"
}

run_ok one 1 --set training.batch_size=16
run_ok buckets 2 --set runtime.gradient_bucket_mb=0.002
grep -q "gradient buckets all-reduced during backward" "$WORK/buckets.log" || { cat "$WORK/buckets.log"; fail "buckets: not the Reducer"; }
grep -Eq "c10d Reducer, ([3-9]|[1-9][0-9]+) gradient buckets" "$WORK/buckets.log" || fail "buckets: fewer than 3 buckets"
same_as_one buckets one 2e-5
run_ok flat 2 --set runtime.gradient_bucket_mb=0
grep -q "one flat all-reduce after backward" "$WORK/flat.log" || fail "flat: not the flat all-reduce"
same_as_one flat one 2e-5
run_ok accumulate 2 --set training.gradient_accumulation=2
grep -q "2 micro-batches per step" "$WORK/accumulate.log" || fail "accumulate: not 2 micro-batches"
same_as_one accumulate one 2e-5

run_ok checkpointing 2 --set runtime.activation_checkpointing=true --set training.gradient_accumulation=2
same_as_one checkpointing one 2e-5

run_ok zero 2 --set runtime.zero_stage=1 --set checkpoint.every_steps=3
grep -q "ZeRO-1: this worker owns" "$WORK/zero.log" || fail "zero: not sharded"
same_as_one zero one 2e-5
z="$WORK/zero/checkpoints/latest"
[ -f "$z/optimizer-worker-0.safetensors" ] && [ -f "$z/optimizer-worker-1.safetensors" ] && [ ! -f "$z/optimizer.safetensors" ] \
  || fail "zero: expected one optimizer shard per worker"
compare "$z/optimizer-worker-0.safetensors,$z/optimizer-worker-1.safetensors" \
  "$WORK/one/checkpoints/latest/optimizer.safetensors" --atol 1e-6 || fail "zero: shards differ from the whole state"
# Resume the step-3 ZeRO-1 checkpoint without ZeRO: the shards are merged back.
rm -rf "$WORK/zero/checkpoints/latest" "$WORK/zero/checkpoints/step-00000006"
ln -s step-00000003 "$WORK/zero/checkpoints/latest"
run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/zero" --resume > "$WORK/zero-resume.log" 2>&1 \
  || { cat "$WORK/zero-resume.log"; fail "zero: resume unsharded"; }
same_as_one zero one 2e-5

run_ok zero2 2 --set runtime.zero_stage=2 --set runtime.gradient_bucket_mb=0.002
grep -Eq "ZeRO-2: this worker owns .* ([3-9]|[1-9][0-9]+) gradient buckets" "$WORK/zero2.log" || { cat "$WORK/zero2.log"; fail "zero2: not sharded in buckets"; }
same_as_one zero2 one 2e-5
bytes() { sed -n 's/.*AdamW state on this worker: \([0-9]*\) bytes.*/\1/p' "$1" | head -1; }
"$PY" - "$(bytes "$WORK/buckets.log")" "$(bytes "$WORK/zero2.log")" <<'PY' || fail "zero2: AdamW state not about halved"
import sys
whole, share = map(int, sys.argv[1:])
print(f"AdamW bytes on worker 0: {share} of {whole} ({share / whole:.2f}x)")
sys.exit(0 if 0.3 <= share / whole <= 0.7 else 1)
PY

# bf16 follows the fp32 trajectory: the 2-worker bf16 run ends within a small
# fraction of how far the fp32 run moved the weights (a plain atol cannot hold:
# AdamW turns bf16's rounding of tiny gradients into full-size steps).
run_ok bf16 2 --set runtime.precision=bf16 --set runtime.gradient_bucket_mb=0.002
grep -q "worker 0: bf16 precision" "$WORK/bf16.log" || fail "bf16: not reported"
"$PY" "$SRC/tests/tools/trajectory_gap.py" "$WORK/student.pt" "$WORK/one/checkpoints/latest/model.safetensors" \
  "$WORK/bf16/checkpoints/latest/model.safetensors" --max 0.15 || fail "bf16: left the fp32 trajectory"
echo "PASS gradient_sync"
