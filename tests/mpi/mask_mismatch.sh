#!/usr/bin/env bash
# A mask that differs on one worker stops the job, naming the parameter.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
export DISTILL_FAULT_MASK_MISMATCH=1   # worker 1 flips one entry of its first mask
set +e
run_job 2 "$WORK/job.yaml" > "$WORK/log" 2>&1
code=$?
set -e
cat "$WORK/log"
[ "$code" -ne 0 ] || fail "the job succeeded despite a mask mismatch"
grep -q 'mask mismatch across workers' "$WORK/log" || fail "no mask mismatch message"
grep -Eq 'on parameter "[^"]+"' "$WORK/log" || fail "the message does not name the parameter"
no_process_left
echo "PASS mask_mismatch"
