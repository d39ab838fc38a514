#!/usr/bin/env bash
# distill prune: one-shot SparseGPT, Wanda and magnitude on calibration data,
# alone and under mpirun. 2 ranks choose the 1-rank masks and weights (up to
# the order of the float64 sums: within 1e-5; bit for bit on some CPUs); N:M
# masks keep exactly N of every M; a train job with the written recovery.yaml
# keeps exactly the pruned masks (2:4 and unstructured), every pruned entry at
# zero and every other one trained; bad input
# (another vocabulary, a pattern that does not divide a layer, an unknown
# method, a model that is not built in) is refused by name.
source "$(dirname "$0")/lib.sh"
make_tiny_lm_data "$WORK/data"
"$BIN" prepare-data --synthetic language-modeling --vocab 80 --length 16 --num-samples 32 --out "$WORK/data80" \
  >/dev/null || fail "prepare-data (vocab 80)"
tiny_decoder "$WORK/model.pt" 3 32 2
tiny_decoder "$WORK/odd.pt" 3 32 1 62
prune() { "$BIN" prune "$WORK/model.pt" --calibration "$WORK/data" --samples 64 "$@"; }

prune --method sparsegpt --sparsity 2:4 --out "$WORK/one" > "$WORK/one.log" 2>&1 || { cat "$WORK/one.log"; fail "prune"; }
timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS -np 2 "$BIN" prune \
  "$WORK/model.pt" --calibration "$WORK/data" --samples 64 --method sparsegpt --sparsity 2:4 --out "$WORK/two" \
  > "$WORK/two.log" 2>&1 || { cat "$WORK/two.log"; fail "prune under mpirun"; }
grep -q "over 2 ranks" "$WORK/two.log" || fail "prune under mpirun did not use 2 ranks"
# The same masks; the weights up to the order of the float64 sums over ranks.
compare "$WORK/one/masks.safetensors" "$WORK/two/masks.safetensors" --exact || fail "2 ranks chose other masks than 1"
compare "$WORK/one/model.safetensors" "$WORK/two/model.safetensors" --atol 1e-5 || fail "2 ranks differ from 1"
for f in model.pt model.safetensors masks.safetensors sparsity_report.json recovery.yaml; do
  [ -s "$WORK/one/$f" ] || fail "prune wrote no $f"
done
for method in wanda magnitude; do
  prune --method "$method" --sparsity 0.5 --out "$WORK/$method" > "$WORK/$method.log" 2>&1 ||
    { cat "$WORK/$method.log"; fail "prune --method $method"; }
done

# N:M exact, and the report agrees with the masks.
"$PY" - "$SRC" "$WORK/one" <<'PY' || fail "the 2:4 masks or the report are wrong"
import json, os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "unit"))
from read_safetensors import read
masks = read(os.path.join(sys.argv[2], "masks.safetensors"))[1]
report = json.load(open(os.path.join(sys.argv[2], "sparsity_report.json")))
assert sorted(masks) == sorted(report["tensors"]) and len(masks) == 8, sorted(masks)
for name, (_, shape, m) in masks.items():
    groups = m.reshape(shape[0], -1, 4).sum(-1)
    assert (groups == 2).all(), name
    assert report["tensors"][name]["density"] == 0.5, name
PY

# Recovery: train from the pruned model with recovery.yaml (sparsity.masks,
# the fixed schedule): the checkpoint's masks are exactly the pruned ones,
# pruned entries stay 0, the others move. For the 2:4 model and for 50%
# unstructured SparseGPT on the d_ff-62 model (the job takes the masks from
# the file, whatever their counts per row or block; pruner_test.cpp proves it
# on masks no ranking by magnitude would give).
"$BIN" prune "$WORK/odd.pt" --calibration "$WORK/data" --samples 64 --method sparsegpt --sparsity 0.5 \
  --out "$WORK/odd" > "$WORK/odd.log" 2>&1 || { cat "$WORK/odd.log"; fail "prune (d_ff 62)"; }
for pruned in one odd; do
  write_config "$WORK/job-$pruned.yaml" "$WORK/run-$pruned" </dev/null
  sed -i -e "s|^student: .*|student: {path: $WORK/$pruned/model.pt}|" -e "s|^data: .*|data: {train: $WORK/data}|" \
    -e '/^distill:/,/combiner:/d' -e '/^sparsity:/d' "$WORK/job-$pruned.yaml"
  cat "$WORK/$pruned/recovery.yaml" >> "$WORK/job-$pruned.yaml"
  grep -q "masks: \"$WORK/$pruned/masks.safetensors\"" "$WORK/job-$pruned.yaml" ||
    { cat "$WORK/$pruned/recovery.yaml"; fail "$pruned: recovery.yaml does not name the masks file"; }
  run_job 2 "$WORK/job-$pruned.yaml" > "$WORK/recover-$pruned.log" 2>&1 ||
    { cat "$WORK/recover-$pruned.log"; fail "$pruned: train from the pruned model"; }
  "$PY" - "$SRC" "$WORK/$pruned/masks.safetensors" "$WORK/$pruned/model.safetensors" \
    "$WORK/run-$pruned/checkpoints/latest/model.safetensors" "$WORK/run-$pruned/checkpoints/latest/masks.safetensors" \
    <<'PY' || fail "$pruned: training did not keep exactly the pruned masks"
import os, sys
import numpy as np
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "unit"))
from read_safetensors import read
masks, before, after, kept = (read(p)[1] for p in sys.argv[2:6])
assert sorted(masks) == sorted(kept), (sorted(masks), sorted(kept))
for name, (_, _, m) in masks.items():
    assert (kept[name][2].astype(bool) == m.astype(bool)).all(), f"{name}: the job's mask differs from the pruned one"
    w0, w1 = before[name][2], after[name][2]
    assert (w1[m == 0] == 0).all(), f"{name}: a pruned entry was trained"
    assert np.abs(w1[m == 1] - w0[m == 1]).max() > 0, f"{name}: kept entries did not train"
print(len(masks), "masks kept exactly")
PY
done
# The recovered 2:4 student's export says so per tensor (read from the values: its job's granularity is the file's).
"$BIN" export "$WORK/run-one/checkpoints/latest" --out "$WORK/export-one" > /dev/null || fail "export the recovered 2:4 student"
"$PY" - "$WORK/one/masks.safetensors" "$WORK/export-one/sparsity_report.json" "$SRC" <<'PY' || fail "sparsity_report.json: pattern_2_4"
import json, os, sys
sys.path.insert(0, os.path.join(sys.argv[3], "tests", "unit"))
from read_safetensors import read
pruned = set(read(sys.argv[1])[1])
report = {p["name"]: p for p in json.load(open(sys.argv[2]))["parameters"]}
assert all(report[n]["pattern_2_4"] for n in pruned), [n for n in pruned if not report[n]["pattern_2_4"]]
print(len(pruned), "tensors 2:4 in the export report")
PY

# Bad input, each named.
refuse() { refused "$1" prune "${@:2}"; }  # refuse PATTERN ARGS...
refuse "its vocabulary has 80 entries, the model $WORK/model.pt has 96" "$WORK/model.pt" \
  --calibration "$WORK/data80" --out "$WORK/bad"
refuse "layer0.ff2_weight: the 2:4 pattern needs an input dimension that is a multiple of 4" "$WORK/odd.pt" \
  --calibration "$WORK/data" --sparsity 2:4 --out "$WORK/bad"
refuse '--method: "obs" is not sparsegpt, wanda or magnitude' "$WORK/model.pt" --calibration "$WORK/data" \
  --method obs --out "$WORK/bad"
refuse '--sparsity: "1.5"' "$WORK/model.pt" --calibration "$WORK/data" --sparsity 1.5 --out "$WORK/bad"
echo "PASS prune_one_shot"
