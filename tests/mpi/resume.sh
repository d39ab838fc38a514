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

crash_and_resume broken 10 "$WORK/job.yaml" "${common[@]}"
grep -q "resuming from .*step-00000010 at step 10" "$WORK/broken-resumed.log" || fail "did not resume from step 10"
same_latest "$WORK/straight" "$WORK/broken" model optimizer masks
echo "PASS resume"
