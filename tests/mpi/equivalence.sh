#!/usr/bin/env bash
# 2 workers with batch b end with the same weights and masks as 1 worker with
# batch 2b (dropout off, same seed): the all-reduce averages the same gradient.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null

run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/two" > "$WORK/two.log" 2>&1 || { cat "$WORK/two.log"; fail "2-worker run"; }
run_job 1 "$WORK/job.yaml" --set run_dir="$WORK/one" --set training.batch_size=16 > "$WORK/one.log" 2>&1 \
  || { cat "$WORK/one.log"; fail "1-worker run"; }

two="$WORK/two/checkpoints/latest"
one="$WORK/one/checkpoints/latest"
[ "$(cat "$two/state.json" | grep -o '"step": [0-9]*')" = '"step": 6' ] || fail "2-worker run did not reach step 6"
compare "$two/model.safetensors" "$one/model.safetensors" --atol 2e-5 || fail "weights differ"
compare "$two/masks.safetensors" "$one/masks.safetensors" --exact || fail "masks differ"
# The runs trained: weights moved away from the initial student.
"$BIN" export "$two" --out "$WORK/exported" >/dev/null
echo "PASS equivalence"
