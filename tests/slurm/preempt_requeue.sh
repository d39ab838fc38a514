#!/usr/bin/env bash
# Preemption on a real one-node Slurm cluster: SIGTERM to the batch script of a
# running launch/slurm/distill.sbatch job (what --signal=B:TERM@120 does before
# the time limit) stops every worker at one step with a committed checkpoint;
# the script requeues the job, which resumes from latest by itself and ends
# COMPLETED with the same final step count and bitwise the same weights as an
# uninterrupted run (launch/distill-mpirun). Also checks the Prometheus
# file-SD target the script writes for the job and removes at the end.
# LAUNCHERS="srun mpirun" (default: both) picks the launchers to test.
source "$(dirname "$0")/lib.sh"
start_cluster
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
steps=400
common=(--set training.max_steps=$steps --set checkpoint.every_steps=0 --set sparsity.interval=25)
export DISTILL_BIN="$BIN"
final="$(printf step-%08d $steps)"

"$SRC/launch/distill-mpirun" -n 2 "$WORK/job.yaml" --set run_dir="$WORK/straight" "${common[@]}" \
  > "$WORK/straight.log" 2>&1 || { cat "$WORK/straight.log"; fail "uninterrupted run"; }

for launcher in ${LAUNCHERS:-srun mpirun}; do
  out="$WORK/$launcher.out"
  run="$WORK/run-$launcher"
  targets="$WORK/targets-$launcher"
  jobid="$(DISTILL_LAUNCHER=$launcher DISTILL_PROMETHEUS_TARGETS="$targets" sbatch --parsable --chdir="$WORK" \
    --output="$out" --ntasks-per-node=3 --time=10 "$SRC/launch/slurm/distill.sbatch" "$WORK/job.yaml" \
    --set run_dir="$run" "${common[@]}")" || fail "sbatch refused the job"
  jobid="${jobid%%;*}"
  wait_for_training "$out"

  # The coordinator's metrics endpoint, published for Prometheus.
  for _ in $(seq 1 50); do [ -s "$targets/$jobid.json" ] && break; sleep 0.2; done
  [ -s "$targets/$jobid.json" ] || { cat "$out"; fail "$launcher: no Prometheus target $targets/$jobid.json"; }
  port="$(sed 's/.*://' "$run/metrics_endpoint")"
  grep -qF "\"$(hostname -f):$port\"" "$targets/$jobid.json" && grep -qF "\"slurm_job_id\": \"$jobid\"" "$targets/$jobid.json" \
    || { cat "$targets/$jobid.json"; fail "$launcher: wrong Prometheus target"; }
  "$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$targets/$jobid.json" || fail "$launcher: target is not JSON"

  # What Slurm does before the time limit: SIGTERM to the batch shell only.
  scancel --signal=TERM --batch "$jobid" || fail "$launcher: scancel --signal=TERM --batch"
  state="$(wait_for_job_end "$jobid" 300)" || { cat "$out"; show_cluster_logs; fail "$launcher: job $jobid still $state after 300 s"; }
  exit_code="$(job_field "$jobid" ExitCode)"
  restarts="$(job_field "$jobid" Restarts)"
  echo "--- $launcher: job $jobid $state $exit_code, $restarts restart(s)"
  grep -v "^step " "$out" || true

  [ "$state" = COMPLETED ] && [ "$exit_code" = "0:0" ] || fail "$launcher: job ended $state with exit code $exit_code"
  [ "$restarts" = 1 ] || fail "$launcher: expected 1 restart, scontrol shows ${restarts:-none}"
  stop="$(sed -nE 's/.*stopped at step ([0-9]+) of '"$steps"'.*/\1/p' "$out" | head -n 1)"
  [ -n "$stop" ] && [ "$stop" -lt "$steps" ] || fail "$launcher: the job did not stop before step $steps"
  grep -q "requeued job $jobid" "$out" || fail "$launcher: the script did not requeue the job"
  grep -q "resuming from .*$(printf step-%08d "$stop") at step $stop" "$out" || fail "$launcher: the second run did not resume from step $stop"
  grep -q "job test done: $steps steps" "$out" || fail "$launcher: no 'done' line from the coordinator"
  [ "$(readlink "$run/checkpoints/latest")" = "$final" ] || fail "$launcher: latest is $(readlink "$run/checkpoints/latest"), not $final"
  compare "$WORK/straight/checkpoints/latest/model.safetensors" "$run/checkpoints/latest/model.safetensors" --exact \
    || fail "$launcher: weights differ from the uninterrupted run"
  [ ! -e "$targets/$jobid.json" ] || fail "$launcher: the Prometheus target outlived the job"
  echo "$launcher: stopped at step $stop, requeued, resumed and finished equal to the uninterrupted run"
done
echo "PASS preempt_requeue (${LAUNCHERS:-srun mpirun})"
