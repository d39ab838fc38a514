#!/usr/bin/env bash
# kill -9 of one worker ends every process of the job within the watchdog time,
# with a non-zero exit, and the coordinator's own message names the dead rank
# (not mpirun's, and not the survivor whose all-reduce then failed).
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" <<'YAML'
YAML
WATCHDOG=15
set +e
run_job 2 "$WORK/job.yaml" --set training.max_steps=100000 --set runtime.watchdog_seconds=$WATCHDOG \
  > "$WORK/log" 2>&1 &
job=$!
set -e
# Wait until the workers train, then kill world rank 2 (worker 1).
wait_for_training "$WORK/log"
kill_and_wait "$job" "$(pid_of_rank 2 "$WORK/job.yaml")"
cat "$WORK/log"
[ "$CODE" -ne 0 ] || fail "the job exited 0 after a worker was killed"
[ "$ELAPSED" -le "$WATCHDOG" ] || fail "the job took ${ELAPSED}s to end, more than the watchdog's ${WATCHDOG}s"
grep -Eq '^\[coordinator\] error: worker 1 \(rank 2\) \(pid [0-9]+\) died \(its process is gone' "$WORK/log" ||
  fail "the coordinator's message does not name rank 2 as dead"
no_process_left
worker_elapsed=$ELAPSED

# kill -9 of the coordinator: nobody is left to name it but mpirun, which does
# (the launcher keeps that notice), and every worker is gone within the watchdog time.
set +e
DISTILL_BIN="$BIN" "$SRC/launch/distill-mpirun" -n 2 "$WORK/job.yaml" --set training.max_steps=100000 \
  --set runtime.watchdog_seconds=$WATCHDOG --set run_dir="$WORK/run-coordinator" > "$WORK/coordinator.log" 2>&1 &
job=$!
set -e
wait_for_training "$WORK/coordinator.log"
kill_and_wait "$job" "$(pid_of_rank 0 "$WORK/job.yaml")"
[ "$CODE" -ne 0 ] || fail "the job exited 0 after the coordinator was killed"
[ "$ELAPSED" -le "$WATCHDOG" ] || fail "the job took ${ELAPSED}s to end after the coordinator was killed"
grep -Eq "process rank 0 .*exited on signal 9" "$WORK/coordinator.log" ||
  { tail -20 "$WORK/coordinator.log"; fail "nothing names rank 0 as killed"; }
no_process_left
echo "PASS kill_worker (worker: ${worker_elapsed}s, coordinator: ${ELAPSED}s)"
