#!/usr/bin/env bash
# launch/slurm/distill.sbatch on a real one-node Slurm cluster started by the
# test: a tiny job with 2 workers + the coordinator (3 tasks), once launched
# with srun --mpi=pmix and once with mpirun inside the allocation. Each must
# end COMPLETED with exit code 0, print the coordinator's "done" line and leave
# a committed checkpoint of the last step.
source "$(dirname "$0")/lib.sh"
start_cluster
make_tiny_task
steps=12
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
export DISTILL_BIN="$BIN"

for launcher in srun mpirun; do
  out="$WORK/$launcher.out"
  jobid="$(DISTILL_LAUNCHER=$launcher sbatch --parsable --chdir="$WORK" --output="$out" \
    --ntasks-per-node=3 --time=10 "$SRC/launch/slurm/distill.sbatch" "$WORK/job.yaml" \
    --set run_dir="$WORK/run-$launcher" --set training.max_steps=$steps --set checkpoint.every_steps=4)" \
    || fail "sbatch refused the job"
  jobid="${jobid%%;*}"
  state="$(wait_for_job_end "$jobid" 300)" || { cat "$out"; show_cluster_logs; fail "$launcher: job $jobid still $state after 300 s"; }
  exit_code="$(job_field "$jobid" ExitCode)"
  echo "--- $launcher: job $jobid $state $exit_code"
  grep -v "^step " "$out" || true
  [ "$state" = COMPLETED ] && [ "$exit_code" = "0:0" ] || fail "$launcher: job ended $state with exit code $exit_code"
  grep -q "via $launcher" "$out" || fail "$launcher: the script did not use $launcher"
  grep -q "job test done: $steps steps" "$out" || fail "$launcher: no 'done' line from the coordinator"
  [ "$(readlink "$WORK/run-$launcher/checkpoints/latest")" = "$(printf step-%08d $steps)" ] \
    || fail "$launcher: latest is $(readlink "$WORK/run-$launcher/checkpoints/latest"), not step $steps"
  [ -f "$WORK/run-$launcher/checkpoints/latest/model.safetensors" ] || fail "$launcher: no weights in the last checkpoint"
done
echo "PASS sbatch_demo (srun and mpirun)"
