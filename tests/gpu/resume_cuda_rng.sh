#!/usr/bin/env bash
# Dropout on the GPU draws from the GPU's generator, so a checkpoint saves its
# state: a run killed after its step-10 checkpoint and resumed ends where an
# uninterrupted run ends. The control proves the state matters: the same
# resume without it (the tensor removed from rng-worker-0) ends elsewhere.
source "$(dirname "$0")/lib.sh"
DROPOUT=0.1 make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" <<< ""
common=(--set training.max_steps=20 --set checkpoint.every_steps=10 --set sparsity.interval=3)
run_job 1 "$WORK/job.yaml" --set run_dir="$WORK/straight" "${common[@]}" > "$WORK/straight.log" 2>&1 \
  || { cat "$WORK/straight.log"; fail "uninterrupted run"; }
expect_on_gpu "$WORK/straight.log"
set +e
DISTILL_FAULT_ABORT_AFTER_COMMIT=10 run_job 1 "$WORK/job.yaml" --set run_dir="$WORK/broken" "${common[@]}" \
  > "$WORK/broken.log" 2>&1
code=$?
set -e
[ "$code" -ne 0 ] || { cat "$WORK/broken.log"; fail "the interrupted run did not fail"; }
"$PY" - "$WORK/broken/checkpoints/step-00000010/rng-worker-0.safetensors" <<'PY' || fail "no cuda_generator saved"
import sys
from safetensors import safe_open
with safe_open(sys.argv[1], "pt") as f:
    assert "cuda_generator" in f.keys(), f.keys()
PY
cp -a "$WORK/broken" "$WORK/control"
"$PY" - "$WORK/control/checkpoints/step-00000010/rng-worker-0.safetensors" <<'PY'
import sys
from safetensors.torch import load_file, save_file
t = load_file(sys.argv[1]); t.pop("cuda_generator"); save_file(t, sys.argv[1])
PY
for run in broken control; do
  run_job 1 "$WORK/job.yaml" --set run_dir="$WORK/$run" "${common[@]}" --resume > "$WORK/$run-resumed.log" 2>&1 \
    || { cat "$WORK/$run-resumed.log"; fail "$run: resumed run"; }
done
compare "$WORK/straight/checkpoints/latest/model.safetensors" "$WORK/broken/checkpoints/latest/model.safetensors" \
  --atol 1e-6 || fail "resumed weights differ from the uninterrupted run"
if compare "$WORK/straight/checkpoints/latest/model.safetensors" \
    "$WORK/control/checkpoints/latest/model.safetensors" --atol 1e-4; then
  fail "control: resuming without the GPU generator state changed nothing (dropout not on the GPU?)"
fi
echo "PASS resume_cuda_rng"
