#!/usr/bin/env bash
# A training shard truncated in place while the job reads it: the workers
# name the shard (no SIGBUS, exit code 1, not 135), every process ends, and
# `latest` is still the valid checkpoint it was, from which the job resumes
# once the shard is restored.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" <<'YAML'
YAML
set +e
run_job 2 "$WORK/job.yaml" --set training.max_steps=100000 --set checkpoint.every_steps=5 > "$WORK/log" 2>&1 &
job=$!
set -e
wait_for_training "$WORK/log"
for _ in $(seq 1 100); do [ -e "$WORK/run/checkpoints/latest/state.json" ] && break; sleep 0.2; done
[ -e "$WORK/run/checkpoints/latest/state.json" ] || fail "no checkpoint committed"
shard="$WORK/data/train/shard-00000.safetensors"
cp "$shard" "$WORK/shard.bak"
truncate -s 4096 "$shard"
set +e
wait "$job"
code=$?
set -e
[ "$code" -eq 1 ] || { cat "$WORK/log"; fail "exit code $code, expected 1 (135 is SIGBUS)"; }
grep -q "shard-00000.safetensors: the shard changed while the job was reading it" "$WORK/log" ||
  { cat "$WORK/log"; fail "the shard is not named"; }
no_process_left
step=$(readlink "$WORK/run/checkpoints/latest")
cp "$WORK/shard.bak" "$shard"
run_job 2 "$WORK/job.yaml" --resume --set training.max_steps=$(( 10#${step#step-} + 2 )) > "$WORK/resume.log" 2>&1 ||
  { cat "$WORK/resume.log"; fail "resume after restoring the shard"; }
grep -q "resuming from .*$step" "$WORK/resume.log" || { cat "$WORK/resume.log"; fail "did not resume from $step"; }
echo "PASS shard_truncated (stopped after $step)"
