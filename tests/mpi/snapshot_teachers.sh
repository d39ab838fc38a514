#!/usr/bin/env bash
# CAP's snapshot teachers (distill.snapshot_teachers): a 2-worker job keeps the
# pre-trained student and the newest 2 snapshots taken at mask updates, reports
# the term, checkpoints them; a run that dies after a checkpoint resumes bitwise
# equal to an uninterrupted one (the snapshots came back from the checkpoint).
source "$(dirname "$0")/lib.sh"
DROPOUT=0.1 make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
common=(--set training.max_steps=20 --set checkpoint.every_steps=10 --set sparsity.interval=3
  --set distill.snapshot_teachers=2 --set metrics.report_every=1)

run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/straight" "${common[@]}" > "$WORK/straight.log" 2>&1 \
  || { cat "$WORK/straight.log"; fail "uninterrupted run"; }
"$PY" - "$SRC/tests/unit" "$WORK/straight/checkpoints/latest/snapshot_teachers.safetensors" <<'PY' \
  || fail "the checkpoint's snapshot teachers"
import sys
sys.path.insert(0, sys.argv[1])
from read_safetensors import read
_, tensors = read(sys.argv[2])
groups = sorted({name.split("/")[0] for name in tensors})
# masks update after steps 1, 4, 7, ..., 19 (warmup 1, interval 3, cooldown 1): the newest two are 16 and 19
assert groups == ["pretrained", "snapshot-16", "snapshot-19"], groups
PY

crash_and_resume broken 10 "$WORK/job.yaml" "${common[@]}"
same_latest "$WORK/straight" "$WORK/broken" model optimizer masks snapshot_teachers
echo "PASS snapshot_teachers"
