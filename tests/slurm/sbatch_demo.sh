#!/usr/bin/env bash
# launch/slurm/distill.sbatch on a real one-node Slurm cluster started by the
# test: a tiny job with 2 workers + the coordinator (3 tasks), once launched
# with srun --mpi=pmix and once with mpirun inside the allocation, then with
# srun and one more task as a teacher rank (DISTILL_TEACHER_RANKS=1, placement
# pool). Each must end COMPLETED with exit code 0, print the coordinator's
# "done" line and leave a committed checkpoint of the last step.
source "$(dirname "$0")/lib.sh"
start_cluster
make_tiny_task
steps=12
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
export DISTILL_BIN="$BIN"

for run in srun mpirun srun-pool; do
  launcher="${run%-pool}"
  teacher_ranks=0 tasks=3
  [ "$run" = srun-pool ] && teacher_ranks=1 tasks=4
  out="$WORK/$run.out"
  jobid="$(DISTILL_LAUNCHER=$launcher DISTILL_TEACHER_RANKS=$teacher_ranks sbatch --parsable --chdir="$WORK" \
    --output="$out" --ntasks-per-node=$tasks --time=10 "$SRC/launch/slurm/distill.sbatch" "$WORK/job.yaml" \
    --set run_dir="$WORK/run-$run" --set training.max_steps=$steps --set checkpoint.every_steps=4)" \
    || fail "sbatch refused the job"
  jobid="${jobid%%;*}"
  state="$(wait_for_job_end "$jobid" 300)" || { cat "$out"; show_cluster_logs; fail "$launcher: job $jobid still $state after 300 s"; }
  exit_code="$(job_field "$jobid" ExitCode)"
  echo "--- $launcher: job $jobid $state $exit_code"
  grep -v "^step " "$out" || true
  [ "$state" = COMPLETED ] && [ "$exit_code" = "0:0" ] || fail "$launcher: job ended $state with exit code $exit_code"
  grep -q "via $launcher" "$out" || fail "$launcher: the script did not use $launcher"
  grep -q "job test done: $steps steps" "$out" || fail "$run: no 'done' line from the coordinator"
  [ "$(readlink "$WORK/run-$run/checkpoints/latest")" = "$(printf step-%08d $steps)" ] \
    || fail "$run: latest is $(readlink "$WORK/run-$run/checkpoints/latest"), not step $steps"
  [ -f "$WORK/run-$run/checkpoints/latest/model.safetensors" ] || fail "$run: no weights in the last checkpoint"
  if [ "$teacher_ranks" -gt 0 ]; then
    grep -q "2 workers + 1 teacher ranks" "$out" && grep -q "teachers: placement pool" "$out" \
      && grep -q "teacher rank 3: teacher 't0' loaded" "$out" || fail "$run: no teacher rank in the job"
  fi
done
echo "PASS sbatch_demo (srun, mpirun, srun with a teacher rank)"
