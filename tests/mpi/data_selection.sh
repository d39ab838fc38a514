#!/usr/bin/env bash
# Data selection (Dynamic KD): with training.data_selection.fraction 0.3 the
# coordinator keeps, at each epoch end, the samples the student is least
# sure of. Checked on 3 workers (512 samples, global batch 24: epoch 0 has 21
# steps, later epochs floor(0.3 * 512 / 24) = 6 steps = 144 samples):
#  - every worker's second-epoch batches (the DISTILL_TRACE_SAMPLES hook
#    records what each worker trained) are exactly the selected samples,
#    each once, and the selection is the top 144 of the entropies recorded
#    in the checkpoint (never-scored samples first, ties to the lower id);
#  - a run that crashes in the middle of the second epoch and resumes trains
#    the same samples at the same steps on every worker and makes the same
#    selection for the third epoch as the run that was never stopped;
#  - a resume on 2 workers finishes the second epoch from the same selection.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" <<'YAML'
YAML
common=(--set training.max_steps=0 --set training.epochs=3 --set training.data_selection.fraction=0.3
  --set checkpoint.every_steps=3 --set checkpoint.keep=20)

# A: never stopped.
DISTILL_TRACE_SAMPLES="$WORK/trace-a" run_job 3 "$WORK/job.yaml" "${common[@]}" --set run_dir="$WORK/a" \
  > "$WORK/a.log" 2>&1 || { cat "$WORK/a.log"; fail "run A"; }
grep -q "3 workers, 33 steps" "$WORK/a.log" || { cat "$WORK/a.log"; fail "the plan is not 21 + 6 + 6 steps"; }
grep -q "data selection for epoch 1: kept 144 of 512 samples" "$WORK/a.log" \
  || { cat "$WORK/a.log"; fail "no selection log line for epoch 1"; }
no_process_left

# B: crashes right after committing step 24 (the middle of epoch 1), resumes on 3 workers.
set +e
DISTILL_FAULT_ABORT_AFTER_COMMIT=24 DISTILL_TRACE_SAMPLES="$WORK/trace-b0" run_job 3 "$WORK/job.yaml" \
  "${common[@]}" --set run_dir="$WORK/b" > "$WORK/b0.log" 2>&1
code=$?
set -e
[ "$code" -ne 0 ] || { cat "$WORK/b0.log"; fail "run B did not stop at its step-24 checkpoint"; }
no_process_left
DISTILL_TRACE_SAMPLES="$WORK/trace-b" run_job 3 "$WORK/job.yaml" "${common[@]}" --set run_dir="$WORK/b" --resume \
  > "$WORK/b.log" 2>&1 || { cat "$WORK/b.log"; fail "run B's resume"; }
no_process_left

# C: the same crash, resumed on 2 workers (global batch 16): 72 selected
# samples are left of epoch 1, 4 steps of 16 (8 dropped).
cp -r "$WORK/b" "$WORK/c"
rm -rf "$WORK/c/checkpoints"/step-000000{27,30,33} && ln -sfn step-00000024 "$WORK/c/checkpoints/latest"
DISTILL_TRACE_SAMPLES="$WORK/trace-c" run_job 2 "$WORK/job.yaml" "${common[@]}" --set run_dir="$WORK/c" --resume \
  --set training.epochs=2 > "$WORK/c.log" 2>&1 || { cat "$WORK/c.log"; fail "run C's resume on 2 workers"; }
no_process_left

"$PY" - "$WORK" <<'PY' || fail "data selection"
import json, sys
work = sys.argv[1]

def trace(name, workers):
    """{step: {worker: (epoch, [samples])}} from the DISTILL_TRACE_SAMPLES files."""
    out = {}
    for w in range(workers):
        for line in open(f"{work}/{name}/worker-{w}.txt"):
            step, epoch, *ids = map(int, line.split())
            out.setdefault(step, {})[w] = (epoch, ids)
    return out

def state(run, step):
    return json.load(open(f"{work}/{run}/checkpoints/step-{step:08d}/state.json"))

a = trace("trace-a", 3)
sel1 = state("a", 21)["data_selection"]
sel2 = state("a", 27)["data_selection"]
assert sel1["epoch"] == 1 and sel2["epoch"] == 2, (sel1["epoch"], sel2["epoch"])
assert len(sel1["selected"]) == 144 and len(sel2["selected"]) == 144

# Epoch 1 (steps 21..26): every worker trains 8 selected samples per step; together, each selected sample once.
trained = []
for step in range(21, 27):
    assert sorted(a[step]) == [0, 1, 2], f"step {step}: workers {sorted(a[step])}"
    for w, (epoch, ids) in a[step].items():
        assert epoch == 1 and len(ids) == 8, f"step {step} worker {w}: epoch {epoch}, {len(ids)} samples"
        trained += ids
assert sorted(trained) == sorted(sel1["selected"]), "epoch 1 did not train exactly the selected samples"
# The same for epoch 2 (steps 27..32), with its own selection.
trained2 = [i for step in range(27, 33) for _, ids in a[step].values() for i in ids]
assert sorted(trained2) == sorted(sel2["selected"]), "epoch 2 did not train exactly its selected samples"
assert set(sel1["selected"]) != set(sel2["selected"]), "the selection did not change between epochs"
# Epoch 0 trained everything once but the 8 samples of the dropped remainder.
epoch0 = [i for step in range(21) for _, ids in a[step].values() for i in ids]
assert len(epoch0) == 504 and len(set(epoch0)) == 504

# The selection by hand: the top 144 of the entropies known at the epoch's first step.
scores = sel1["scores"]
latest = dict(zip(scores["samples"], scores["entropy"]))
assert set(latest) == set(epoch0), "the checkpoint's scores are not those of the epoch-0 samples"
order = sorted(range(512), key=lambda i: (-(latest[i] if i in latest else float("inf")), i))
assert sorted(order[:144]) == sorted(sel1["selected"]), "the selection is not the 144 highest entropies"

# B: the resumed run trains what A trained at every step from 24 on, and selects the same for epoch 2.
b = trace("trace-b", 3)
assert min(b) == 24, f"B resumed at step {min(b)}"
for step in range(24, 33):
    assert b[step] == a[step], f"step {step}: resumed run trained {b[step]}, the unstopped run {a[step]}"
assert state("b", 27)["data_selection"]["selected"] == sel2["selected"], "the resumed run selected otherwise"

# C: 2 workers finish epoch 1 with samples of the same selection, none repeated.
c = trace("trace-c", 2)
before = [i for step in range(21, 24) for _, ids in a[step].values() for i in ids]
after = [i for step in sorted(c) for w, (epoch, ids) in c[step].items() if epoch == 1 for i in ids]
assert len(after) == 64 and not set(after) & set(before), "the rescaled resume repeated or lost samples"
assert set(before + after) <= set(sel1["selected"]), "the rescaled resume trained unselected samples"
print("data selection: epoch 1 and 2 trained exactly their 144 selected samples; resume kept the selection")
PY
echo "PASS data_selection"
