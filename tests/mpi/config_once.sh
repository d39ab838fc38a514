#!/usr/bin/env bash
# The job config is read by rank 0 alone and broadcast (a 60 MB YAML once
# cost every rank 77 s and 5.6 GB). Proof: the config is a FIFO that is
# written once; a second reader would wait forever for a writer, so the job
# only finishes if one rank reads it. And a config rank 0 refuses ends every
# rank with exit code 2 and one message.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
mkfifo "$WORK/fifo.yaml"
cat "$WORK/job.yaml" > "$WORK/fifo.yaml" &
set +e
timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS -np 3 \
  "$BIN" train "$WORK/fifo.yaml" > "$WORK/log" 2>&1
code=$?
set -e
[ "$code" -eq 0 ] || { cat "$WORK/log"; fail "the job from a FIFO config exited $code (124: a second rank waited to read it)"; }
grep -q "job test: 2 workers" "$WORK/log" || { cat "$WORK/log"; fail "no job line"; }
echo "ok: a job of 3 ranks read its config once"

set +e
run_job 2 "$WORK/job.yaml" --set training.batch_size=0 > "$WORK/bad.log" 2>&1
code=$?
set -e
[ "$code" -eq 2 ] || { cat "$WORK/bad.log"; fail "a refused config exited $code, not 2"; }
[ "$(grep -c 'training.batch_size' "$WORK/bad.log")" -eq 1 ] || { cat "$WORK/bad.log"; fail "the refusal is not printed once"; }
no_process_left
echo "PASS config_once"
