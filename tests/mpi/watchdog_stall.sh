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
for _ in $(seq 1 120); do
  grep -q "step " "$WORK/log" 2>/dev/null && break
  sleep 0.5
done
victim=""
for pid in $(pgrep -f "$WORK/job.yaml"); do
  if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1'; then victim=$pid; fi
done
[ -n "$victim" ] || { cat "$WORK/log"; fail "no process with world rank 1"; }
kill -STOP "$victim"
set +e
wait "$job"
code=$?
set -e
kill -KILL "$victim" 2>/dev/null || true
cat "$WORK/log"
[ "$code" -ne 0 ] || fail "the job exited 0 with a stalled worker"
grep -Eq 'worker 0 \(rank 1\) silent for [0-9.]+ s, last seen at step [0-9]+ in phase [a-z]+' "$WORK/log" \
  || fail "the watchdog did not name the stalled worker"
no_process_left
echo "PASS watchdog_stall"
