#!/usr/bin/env bash
# A 2-worker job with magnitude pruning dies right after committing its step-10
# checkpoint; --resume on 3 workers finishes it. The resumed run starts from the
# checkpoint's masks, the data ledger continues at the checkpoint's sample and
# the step count follows from what is left at the new global batch
# (docs/checkpoints.md). The workers compare mask checksums after every mask
# update, so masks that diverged across workers would fail the job.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
# 512 samples, batch 8. 2 workers: global batch 16, step 10 stops at sample 160
# of epoch 0. 3 workers: global batch 24; 352 samples left of epoch 0 make 14
# steps (16 dropped); epoch 1 has 21 steps (8 dropped): 10 + 14 + 21 = 45 steps.
# Masks change at steps 1, 5, 9, 13, ... (sparsity warm-up 1, interval 4).
common=(--set training.max_steps=0 --set training.epochs=2 --set sparsity.criterion=magnitude
  --set sparsity.interval=4 --set checkpoint.keep=10)

set +e
DISTILL_FAULT_ABORT_AFTER_COMMIT=10 run_job 2 "$WORK/job.yaml" "${common[@]}" --set checkpoint.every_steps=10 \
  > "$WORK/two.log" 2>&1
code=$?
set -e
[ "$code" -ne 0 ] || { cat "$WORK/two.log"; fail "the 2-worker run did not stop at its step-10 checkpoint"; }
grep -q "2 workers, 64 steps (32 per epoch, global batch 16)" "$WORK/two.log" || { cat "$WORK/two.log"; fail "2-worker plan"; }
[ "$(readlink "$WORK/run/checkpoints/latest")" = "step-00000010" ] || fail "latest is not step 10 after the crash"
no_process_left

run_job 3 "$WORK/job.yaml" "${common[@]}" --set checkpoint.every_steps=11 --resume > "$WORK/three.log" 2>&1 \
  || { cat "$WORK/three.log"; fail "the resumed 3-worker run"; }
grep -q "resuming from .*step-00000010 at step 10 (epoch 0, sample 160 of its order; checkpoint written by 2 workers, now 3" \
  "$WORK/three.log" || { cat "$WORK/three.log"; fail "did not resume from step 10 at sample 160"; }
grep -q "3 workers, 45 steps (21 per epoch, global batch 24)" "$WORK/three.log" \
  || { cat "$WORK/three.log"; fail "the 3-worker step count is not 10 + 14 + 21"; }
ckpt="$WORK/run/checkpoints"
[ "$(readlink "$ckpt/latest")" = "step-00000045" ] || fail "the resumed run did not reach step 45"
no_process_left

# The first masks after the resume (step 11, before the update at 13) are the checkpoint's.
compare "$ckpt/step-00000010/masks.safetensors" "$ckpt/step-00000011/masks.safetensors" --exact \
  || fail "the masks after the resume differ from the checkpoint's"
# The check can fail: later updates changed the masks, and step 11 trained.
if compare "$ckpt/step-00000010/masks.safetensors" "$ckpt/step-00000022/masks.safetensors" --exact >/dev/null; then
  fail "the masks did not change after the resume"
fi
if compare "$ckpt/step-00000010/model.safetensors" "$ckpt/step-00000011/model.safetensors" --exact >/dev/null; then
  fail "step 11 did not train"
fi

# The ledger of every checkpoint: where the next batch starts, by hand.
"$PY" - "$ckpt" <<'PY' || fail "the data ledger"
import json, sys
root = sys.argv[1]
segments = [
    {"start_step": 0, "epoch": 0, "epoch_offset": 0, "global_batch": 16, "num_workers": 2},
    {"start_step": 10, "epoch": 0, "epoch_offset": 160, "global_batch": 24, "num_workers": 3},
]
expected = {  # step: (epoch, offset, samples consumed, workers, global batch, segments)
    10: (0, 160, 160, 2, 16, segments[:1]),
    11: (0, 184, 184, 3, 24, segments),
    22: (0, 160 + 12 * 24, 160 + 12 * 24, 3, 24, segments),
    33: (1, 9 * 24, 160 + 23 * 24, 3, 24, segments),  # epoch 1 began at step 24
    44: (1, 20 * 24, 160 + 34 * 24, 3, 24, segments),
    45: (2, 0, 160 + 35 * 24, 3, 24, segments),
}
for step, (epoch, offset, consumed, workers, batch, segs) in expected.items():
    with open(f"{root}/step-{step:08d}/state.json") as f:
        s = json.load(f)
    got = (s["epoch"], s["epoch_offset"], s["samples_consumed"], s["num_workers"], s["global_batch"], s["segments"])
    if s["step"] != step or got != (epoch, offset, consumed, workers, batch, segs):
        sys.exit(f"step {step}: state.json has {s}, expected {(epoch, offset, consumed, workers, batch, segs)}")
    if step > 10 and s["total_steps"] != 45:
        sys.exit(f"step {step}: total_steps {s['total_steps']}, expected 45")
PY

# Still refused: a changed per-worker batch, naming the checkpoint's state.json and the field.
set +e
run_job 3 "$WORK/job.yaml" "${common[@]}" --set training.batch_size=4 --resume > "$WORK/refused.log" 2>&1
code=$?
set -e
[ "$code" -ne 0 ] || { cat "$WORK/refused.log"; fail "a changed training.batch_size was not refused"; }
grep -q "step-00000045/state.json: field \"batch_size\"" "$WORK/refused.log" \
  || { cat "$WORK/refused.log"; fail "the refusal does not name state.json and batch_size"; }
no_process_left
echo "PASS resume_rescale"
