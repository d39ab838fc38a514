#!/usr/bin/env bash
# SIGTERM to launch/distill-mpirun stops every worker at one step, commits a
# checkpoint of that step and exits with code 3; --resume then finishes the job
# with the same final step count and bitwise the same weights as an
# uninterrupted run. The same for SIGINT and SIGTERM sent to the launcher's
# whole process group (Ctrl-C in a terminal, `timeout`), and kill -9 of the
# launcher alone stops the job at a checkpoint too.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
steps=400
common=(--set training.max_steps=$steps --set checkpoint.every_steps=0 --set sparsity.interval=25)
export DISTILL_BIN=$BIN

"$SRC/launch/distill-mpirun" -n 2 "$WORK/job.yaml" --set run_dir="$WORK/straight" "${common[@]}" \
  > "$WORK/straight.log" 2>&1 || { cat "$WORK/straight.log"; fail "uninterrupted run"; }

"$SRC/launch/distill-mpirun" -n 2 "$WORK/job.yaml" --set run_dir="$WORK/stopped" "${common[@]}" \
  > "$WORK/stopped.log" 2>&1 &
launcher=$!
wait_for_training "$WORK/stopped.log"
kill -TERM "$launcher"
set +e
wait "$launcher"
code=$?
set -e
cat "$WORK/stopped.log" | grep -v "^step " || true
[ "$code" -eq 3 ] || fail "a stopped job should exit 3, got $code"
step=$(readlink "$WORK/stopped/checkpoints/latest" | sed -E 's/step-0*//')
[ -n "$step" ] && [ "$step" -lt "$steps" ] || fail "no checkpoint before the last step (latest: $step)"
grep -q "stopped at step $step of $steps" "$WORK/stopped.log" || fail "the coordinator did not report the stop step"
no_process_left

"$SRC/launch/distill-mpirun" -n 2 "$WORK/job.yaml" --set run_dir="$WORK/stopped" "${common[@]}" --resume \
  > "$WORK/resumed.log" 2>&1 || { cat "$WORK/resumed.log"; fail "resumed run"; }
[ "$(readlink "$WORK/stopped/checkpoints/latest")" = "step-00000$steps" ] || fail "the resumed run did not reach step $steps"
compare "$WORK/straight/checkpoints/latest/model.safetensors" "$WORK/stopped/checkpoints/latest/model.safetensors" \
  --exact || fail "weights differ from the uninterrupted run"

# stop_group RUN SIGNAL: the launcher in a process group of its own, as a
# terminal's foreground job is (job control on: SIGINT not ignored, as it is
# for `&` without it), SIGNAL to the whole group.
stop_group() {
  set -m
  "$SRC/launch/distill-mpirun" -n 2 "$WORK/job.yaml" --set run_dir="$WORK/$1" "${common[@]}" > "$WORK/$1.log" 2>&1 &
  local group=$! code
  set +m
  wait_for_training "$WORK/$1.log"
  kill "-$2" -- "-$group"
  set +e
  wait "$group"
  code=$?
  set -e
  [ "$code" -eq 3 ] || { grep -v "^step " "$WORK/$1.log"; fail "group SIG$2: exit $code, expected 3"; }
  grep -q "stopped at step" "$WORK/$1.log" || fail "group SIG$2: no stop step reported"
  no_process_left
  "$SRC/launch/distill-mpirun" -n 2 "$WORK/job.yaml" --set run_dir="$WORK/$1" "${common[@]}" --resume \
    > "$WORK/$1.resumed.log" 2>&1 || { cat "$WORK/$1.resumed.log"; fail "group SIG$2: resume"; }
  compare "$WORK/straight/checkpoints/latest/model.safetensors" "$WORK/$1/checkpoints/latest/model.safetensors" \
    --exact > /dev/null || fail "group SIG$2: weights differ from the uninterrupted run"
}
stop_group ctrlc INT
stop_group term TERM

# kill -9 of the launcher alone: the job, in its own session, is stopped at a checkpoint by its supervisor.
"$SRC/launch/distill-mpirun" -n 2 "$WORK/job.yaml" --set run_dir="$WORK/orphan" "${common[@]}" > "$WORK/orphan.log" 2>&1 &
launcher=$!
wait_for_training "$WORK/orphan.log"
kill -9 "$launcher"
for _ in $(seq 1 100); do pgrep -f "$WORK/orphan" > /dev/null || break; sleep 0.2; done
pgrep -f "$WORK/orphan" > /dev/null && fail "the job outlived its killed launcher by 20 s"
grep -q "stopped at step" "$WORK/orphan.log" || { grep -v "^step " "$WORK/orphan.log"; fail "kill -9 of the launcher: no clean stop"; }
echo "PASS stop_signal (stopped at step $step; group SIGINT, group SIGTERM and a killed launcher stop cleanly too)"
