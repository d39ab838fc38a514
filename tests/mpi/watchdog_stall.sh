#!/usr/bin/env bash
# A worker that stops making progress (SIGSTOP: alive but silent) is named by
# the coordinator's watchdog, with its last step and phase, and the job aborts.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
WATCHDOG=6
set +e
run_job 2 "$WORK/job.yaml" --set training.max_steps=100000 --set runtime.watchdog_seconds=$WATCHDOG \
  --set runtime.collective_timeout_seconds=120 > "$WORK/log" 2>&1 &
job=$!
set -e
wait_for_training "$WORK/log"
victim=$(pid_of_rank 1 "$WORK/job.yaml")
kill -STOP "$victim"
set +e
wait "$job"
code=$?
set -e
kill -KILL "$victim" 2>/dev/null || true
cat "$WORK/log"
[ "$code" -ne 0 ] || fail "the job exited 0 with a stalled worker"
# Named first, or, when it was stopped inside the all-reduce (where it and the
# peer waiting for it look alike), named among the workers also silent.
grep -Eq 'worker 0 \(rank 1\) (silent for|for) [0-9.]+ s, (last seen )?at step [0-9]+ in phase [a-z]+' "$WORK/log" \
  || fail "the watchdog did not name the stalled worker"
no_process_left
echo "PASS watchdog_stall"
