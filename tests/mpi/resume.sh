#!/usr/bin/env bash
# A run that dies right after committing its step-10 checkpoint, resumed with
# --resume to step 20, ends with weights bitwise equal to an uninterrupted
# 20-step run (dropout on: the RNG state is restored too).
source "$(dirname "$0")/lib.sh"
DROPOUT=0.1 make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
common=(--set training.max_steps=20 --set checkpoint.every_steps=10 --set sparsity.interval=3)

run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/straight" "${common[@]}" > "$WORK/straight.log" 2>&1 \
  || { cat "$WORK/straight.log"; fail "uninterrupted run"; }

set +e
DISTILL_FAULT_ABORT_AFTER_COMMIT=10 run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/broken" "${common[@]}" \
  > "$WORK/broken.log" 2>&1
code=$?
set -e
[ "$code" -ne 0 ] || { cat "$WORK/broken.log"; fail "the interrupted run did not fail"; }
[ "$(readlink "$WORK/broken/checkpoints/latest")" = "step-00000010" ] || fail "latest is not step 10 after the crash"
no_process_left

run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/broken" "${common[@]}" --resume > "$WORK/resumed.log" 2>&1 \
  || { cat "$WORK/resumed.log"; fail "resumed run"; }
grep -q "resuming from .*step-00000010 at step 10" "$WORK/resumed.log" || fail "did not resume from step 10"
compare "$WORK/straight/checkpoints/latest/model.safetensors" "$WORK/broken/checkpoints/latest/model.safetensors" \
  --exact || fail "resumed weights differ from the uninterrupted run"
compare "$WORK/straight/checkpoints/latest/optimizer.safetensors" \
  "$WORK/broken/checkpoints/latest/optimizer.safetensors" --exact || fail "optimizer state differs"
compare "$WORK/straight/checkpoints/latest/masks.safetensors" "$WORK/broken/checkpoints/latest/masks.safetensors" \
  --exact || fail "masks differ"
echo "PASS resume"
