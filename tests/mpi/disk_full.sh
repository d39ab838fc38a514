#!/usr/bin/env bash
# A full disk: the job's run_dir on a small tmpfs, room for two checkpoints
# and a half. The third checkpoint cannot be written: the job stops with an
# error naming the file, `latest` still points at the last committed
# checkpoint and verifies; with room again, --resume finishes the job
# bitwise equal to an uninterrupted run.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
steps=60
common=(--set training.max_steps=$steps --set checkpoint.every_steps=10 --set checkpoint.keep=2)

run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/straight" "${common[@]}" > "$WORK/straight.log" 2>&1 ||
  { cat "$WORK/straight.log"; fail "uninterrupted run"; }
checkpoint_kb=$(du -sk "$WORK/straight/checkpoints/step-00000060" | cut -f1)

mkdir -p "$WORK/disk"
mount -t tmpfs -o size=$((checkpoint_kb * 5 / 2 + 64))k tmpfs "$WORK/disk" ||
  fail "cannot mount a tmpfs (the test runs as root, as CI does)"
trap 'umount -l "$WORK/disk" 2>/dev/null; cleanup' EXIT
set +e
run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/disk/run" "${common[@]}" > "$WORK/full.log" 2>&1
code=$?
set -e
cat "$WORK/full.log" | grep -v "^step " || true
[ "$code" -ne 0 ] || fail "the job did not notice the full disk (a checkpoint of ${checkpoint_kb} KB, room for 2.5)"
grep -Eq "No space left on device" "$WORK/full.log" || fail "the error does not say the disk is full"
grep -Eq "$WORK/disk/run/checkpoints/step-000000[0-9]+\\.staging" "$WORK/full.log" || fail "the error does not name the file"
latest=$(readlink "$WORK/disk/run/checkpoints/latest")
[ "$latest" = "step-00000020" ] || fail "latest is '$latest', not step-00000020"
"$BIN" export "$WORK/disk/run/checkpoints/latest" --out "$WORK/exported" > /dev/null ||
  fail "the last committed checkpoint does not verify after the full disk"
no_process_left

mount -o remount,size=64m "$WORK/disk"
run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/disk/run" "${common[@]}" --resume > "$WORK/resumed.log" 2>&1 ||
  { cat "$WORK/resumed.log"; fail "resume after the full disk"; }
[ "$(readlink "$WORK/disk/run/checkpoints/latest")" = "step-00000060" ] || fail "the resumed run did not reach step $steps"
compare "$WORK/straight/checkpoints/latest/model.safetensors" "$WORK/disk/run/checkpoints/latest/model.safetensors" \
  --exact || fail "weights differ from the uninterrupted run"
no_process_left
echo "PASS disk_full (checkpoints of ${checkpoint_kb} KB; stopped at step 30 with step 20 intact, resumed bitwise equal)"
