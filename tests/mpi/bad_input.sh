#!/usr/bin/env bash
# Bad input ends the job with a non-zero exit and a message naming the file or
# field, and leaves no process running: for `distill validate` and for a real
# job under mpirun.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null

expect_failure() {  # expect_failure NAME PATTERN ARGS...: both validate and a 2-worker job must fail with PATTERN
  local name="$1" pattern="$2"; shift 2
  set +e
  "$BIN" validate "$WORK/job.yaml" "$@" > "$WORK/$name.validate.log" 2>&1
  local vcode=$?
  run_job 2 "$WORK/job.yaml" "$@" > "$WORK/$name.job.log" 2>&1
  local jcode=$?
  set -e
  [ "$vcode" -ne 0 ] || { cat "$WORK/$name.validate.log"; fail "$name: validate exited 0"; }
  [ "$jcode" -ne 0 ] || { cat "$WORK/$name.job.log"; fail "$name: the job exited 0"; }
  grep -Eq "$pattern" "$WORK/$name.validate.log" || { cat "$WORK/$name.validate.log"; fail "$name: validate message lacks /$pattern/"; }
  grep -Eq "$pattern" "$WORK/$name.job.log" || { cat "$WORK/$name.job.log"; fail "$name: job message lacks /$pattern/"; }
  no_process_left
  echo "ok $name: $(grep -Em1 "$pattern" "$WORK/$name.job.log")"
}

expect_failure unknown_field 'distill\.teachers\[0\].*unknown field "pth"' --set 'distill.teachers[0].pth=x'
expect_failure wrong_type 'training\.batch_size.*abc' --set training.batch_size=abc
expect_failure missing_model "student\.path.*$WORK/missing\.pt" --set student.path="$WORK/missing.pt"

"$BIN" init-model --arch encoder-classifier --classes 5 --d-model 32 --layers 1 --heads 2 --d-ff 64 --seed 4 \
  --out "$WORK/teacher5.pt" >/dev/null
expect_failure class_mismatch 'distill\.teachers\[0\]\.path.*teacher5\.pt.*5 outputs.*6' \
  --set "distill.teachers[0].path=$WORK/teacher5.pt"

# Sparsity rules the student cannot meet are caught with the student loaded, naming the parameter.
expect_failure blocks_do_not_tile 'sparsity.*block_shape \[5, 5\] does not tile parameter "layer0\.qkv_weight"' \
  --set sparsity.granularity=blocks --set 'sparsity.block_shape=[5, 5]'
expect_failure nm_does_not_divide 'sparsity\.granularity 2:3: parameter "layer0\.qkv_weight" has a last dimension of 32, not a multiple of 3' \
  --set sparsity.granularity=2:3 --set sparsity.final_sparsity=0.3333333333333333 --set sparsity.schedule=one_shot

# Corrupt one byte in the middle of a shard: its checksum no longer matches the manifest.
shard="$(ls "$WORK"/data/train/*.safetensors | head -1)"
size=$(stat -c %s "$shard")
printf '\x55' | dd of="$shard" bs=1 seek=$((size - 7)) conv=notrunc status=none
expect_failure corrupt_shard "$(basename "$shard").*sha256 mismatch"
echo "PASS bad_input"
