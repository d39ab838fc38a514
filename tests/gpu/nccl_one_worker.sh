#!/usr/bin/env bash
# One worker on the GPU with an NCCL group (runtime.backend: nccl builds a
# one-rank group, so every collective goes through NCCL): the job trains,
# prunes, evaluates, checkpoints and exports end to end.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" <<< ""
run_job 1 "$WORK/job.yaml" --set runtime.backend=nccl --set checkpoint.every_steps=3 > "$WORK/job.log" 2>&1 \
  || { cat "$WORK/job.log"; fail "the NCCL job failed"; }
expect_on_gpu "$WORK/job.log"
grep -q "nccl group" "$WORK/job.log" || { cat "$WORK/job.log"; fail "no NCCL group"; }
[ -f "$WORK/run/checkpoints/latest/model.safetensors" ] || fail "no checkpoint"
"$BIN" export "$WORK/run/checkpoints/latest" --out "$WORK/student" > "$WORK/export.log" 2>&1 \
  || { cat "$WORK/export.log"; fail "export"; }
echo "PASS nccl_one_worker"
