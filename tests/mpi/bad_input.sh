#!/usr/bin/env bash
# Bad input ends the job with exit code 2 (docs/operations.md) and a message
# naming the file or field, and leaves no process running: for `distill
# validate` and for a real job under mpirun, whether the coordinator or a
# worker (loading a model or a shard) finds it. Through launch/distill-mpirun
# the service's message is the last word, without mpirun's notices.
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
  [ "$vcode" -eq 2 ] || { cat "$WORK/$name.validate.log"; fail "$name: validate exited $vcode, not 2"; }
  [ "$jcode" -eq 2 ] || { cat "$WORK/$name.job.log"; fail "$name: the job exited $jcode, not 2"; }
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

# The same bad teacher through the launcher: exit code 2, the worker's message last, no mpirun notices.
set +e
DISTILL_BIN="$BIN" timeout -k 5 300 "$SRC/launch/distill-mpirun" -n 2 "$WORK/job.yaml" \
  --set "distill.teachers[0].path=$WORK/teacher5.pt" > "$WORK/launcher.log" 2>&1
code=$?
set -e
[ "$code" -eq 2 ] || { cat "$WORK/launcher.log"; fail "launcher: exit code $code, not 2"; }
if grep -Eq "Primary job|MPI_ABORT was invoked|exited with non-zero status" "$WORK/launcher.log"; then
  cat "$WORK/launcher.log"; fail "launcher: mpirun's notices were not dropped"
fi
grep -q "teacher5.pt" "$WORK/launcher.log" || { cat "$WORK/launcher.log"; fail "launcher: the message is missing"; }
no_process_left
echo "ok launcher: exit code 2, $(grep -c . "$WORK/launcher.log") lines, the last: $(tail -n 1 "$WORK/launcher.log")"

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

# A broken dataset.json: two checks read it, validate says it once.
cp "$WORK/data/train/dataset.json" "$WORK/dataset.json.bak"
echo '{"format": 1}' > "$WORK/data/train/dataset.json"
expect_failure bad_manifest "dataset.json: field 'format' must be a string"
[ "$(grep -c "field 'format'" "$WORK/bad_manifest.validate.log")" -eq 1 ] ||
  { cat "$WORK/bad_manifest.validate.log"; fail "bad_manifest: validate printed the error more than once"; }
cp "$WORK/dataset.json.bak" "$WORK/data/train/dataset.json"
echo "PASS bad_input"
