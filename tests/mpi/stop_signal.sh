#!/usr/bin/env bash
# SIGTERM to launch/distill-mpirun stops every worker at one step, commits a
# checkpoint of that step and exits with code 3; --resume then finishes the job
# with the same final step count and bitwise the same weights as an
# uninterrupted run.
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
echo "PASS stop_signal (stopped at step $step)"
