#!/usr/bin/env bash
# distill moefy: MoEfication of a built-in model on calibration data, alone
# and under mpirun. 2 ranks split the neurons into the same experts as 1 rank
# (the co-activation counts are integers, summed exactly) and fit the same
# routers up to float64 summation order; the written model loads, evaluates,
# and trains in a 2-worker job whose experts move while its routers stay as
# fitted; bad input (experts that do not divide a layer, more experts than
# neurons, another vocabulary, an architecture it does not convert) is refused by name.
# tests/mpi/moefy_llama.sh and moefy_gpt2_bert.sh: the Hugging Face imports.
source "$(dirname "$0")/lib.sh"
make_tiny_lm_data "$WORK/data"
"$BIN" prepare-data --synthetic language-modeling --vocab 80 --length 16 --num-samples 32 --out "$WORK/data80" \
  >/dev/null || fail "prepare-data (vocab 80)"
tiny_decoder "$WORK/model.pt" 3 32 2
# The dense parameters, to check the experts against (magnitude at sparsity 0 writes them unchanged).
"$BIN" prune "$WORK/model.pt" --calibration "$WORK/data" --samples 8 --method magnitude --sparsity 0 \
  --out "$WORK/dense" > /dev/null 2>&1 || fail "dense parameters"
moefy() { "$BIN" moefy "$WORK/model.pt" --calibration "$WORK/data" --samples 64 --experts 4 --top-k 2 "$@"; }

moefy --out "$WORK/one" > "$WORK/one.log" 2>&1 || { cat "$WORK/one.log"; fail "moefy"; }
timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS -np 2 "$BIN" moefy \
  "$WORK/model.pt" --calibration "$WORK/data" --samples 64 --experts 4 --top-k 2 --out "$WORK/two" \
  > "$WORK/two.log" 2>&1 || { cat "$WORK/two.log"; fail "moefy under mpirun"; }
grep -q "over 2 ranks" "$WORK/two.log" || fail "moefy under mpirun did not use 2 ranks"
for f in model.pt model.safetensors moefy_report.json; do [ -s "$WORK/one/$f" ] || fail "moefy wrote no $f"; done
same_moefied "$WORK/one" "$WORK/two" || fail "2 ranks differ from 1"
"$PY" - "$SRC" "$WORK/one" "$WORK/two" <<'PY' || fail "the report or the experts are wrong"
import json, os, sys
import numpy as np
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "unit"))
from read_safetensors import read
one = read(os.path.join(sys.argv[2], "model.safetensors"))[1]
report = json.load(open(os.path.join(sys.argv[2], "moefy_report.json")))
assert report["experts"] == 4 and report["top_k"] == 2
d, ff = 32, 64
expected = (2 * 16 * (2 * d + 1) + d + 4 * (d + 1)) / (ff * (2 * d + 1) + d)
assert abs(report["active_ffn_fraction"] - expected) < 1e-9, report["active_ffn_fraction"]
assert [l["layer"] for l in report["layers"]] == ["layer0", "layer1"]
for l in report["layers"]:
    assert l["expert_width"] == 16 and 0 < l["router_recall"] <= 1 + 1e-9 and 0 < l["ffn_relative_error"] < 1.5, l
for side in ("before", "after"):
    assert report["eval"][side]["perplexity"] > 1, report["eval"]
assert report["calibration"]["tokens"] > 0
dense = read(os.path.join(sys.argv[2], "..", "dense", "model.safetensors"))[1]
for i in range(2):  # the experts are the dense FFN's neurons, reordered
    w, d = one[f"layer{i}.ff1_weight"][2], dense[f"layer{i}.ff1_weight"][2]
    assert sorted(map(tuple, w.tolist())) == sorted(map(tuple, d.tolist())), f"layer{i}: ff1 rows are not a permutation"
    assert (w != d).any(), f"layer{i}: no neuron moved"
print("experts and routers agree across 1 and 2 ranks")
PY
# Every expert running (top-k = experts): the dense model's function, whatever the split.
"$BIN" moefy "$WORK/model.pt" --calibration "$WORK/data" --samples 64 --experts 4 --top-k 4 --out "$WORK/all" > "$WORK/all.log" 2>&1 || { cat "$WORK/all.log"; fail "moefy top-4 of 4"; }
"$PY" - "$WORK/all/moefy_report.json" <<'PY' || fail "with every expert running the routed model is not the dense one"
import json, sys
r = json.load(open(sys.argv[1]))
assert all(l["ffn_relative_error"] < 1e-5 for l in r["layers"]), r["layers"]
before, after = r["eval"]["before"], r["eval"]["after"]
assert abs(before["loss"] - after["loss"]) < 1e-5 and before["accuracy"] == after["accuracy"], r["eval"]
PY
"$BIN" evaluate --model "$WORK/one/model.pt" --data "$WORK/data" > "$WORK/eval.json" || fail "evaluate the moefied model"
grep -q '"perplexity"' "$WORK/eval.json" || fail "evaluate printed no perplexity"

# Training the moefied student: the experts train, the routers stay as fitted.
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
sed -i -e "s|^student: .*|student: {path: $WORK/one/model.pt}|" -e "s|^data: .*|data: {train: $WORK/data}|" \
  -e '/^distill:/,/combiner:/d' -e '/^sparsity:/d' "$WORK/job.yaml"
run_job 2 "$WORK/job.yaml" > "$WORK/train.log" 2>&1 || { cat "$WORK/train.log"; fail "train the moefied model"; }
"$BIN" export "$WORK/run/checkpoints/latest" --out "$WORK/trained" > /dev/null || fail "export the trained student"
"$BIN" evaluate --model "$WORK/trained/model.pt" --data "$WORK/data" > /dev/null || fail "evaluate the trained student"
experts_trained "$WORK/one/model.safetensors" "$WORK/run/checkpoints/latest/model.safetensors" layer0.ff1_weight ||
  fail "training the moefied student"

# Bad input, each named.
refuse() { refused "$1" moefy "${@:2}"; }  # refuse PATTERN ARGS...
refuse "layer0's 64 FFN neurons do not split into --experts 6 equal experts" "$WORK/model.pt" \
  --calibration "$WORK/data" --experts 6 --out "$WORK/bad"
refuse "layer0 has 64 FFN neurons, fewer than --experts 128" "$WORK/model.pt" --calibration "$WORK/data" \
  --experts 128 --out "$WORK/bad"
refuse "--top-k must be in \[1, --experts = 4\], got 5" "$WORK/model.pt" --calibration "$WORK/data" --experts 4 \
  --top-k 5 --out "$WORK/bad"
refuse "its vocabulary has 80 entries, the model $WORK/model.pt has 96" "$WORK/model.pt" \
  --calibration "$WORK/data80" --out "$WORK/bad"
# A user's own TorchScript model (docs/models.md): no architecture moefy knows.
"$PY" "$SRC/tests/unit/torch/python/write_custom_model.py" "$WORK/custom.pt" || fail "write a custom model"
refuse "$WORK/custom.pt: distill moefy converts the built-in architectures" "$WORK/custom.pt" --calibration "$WORK/data" \
  --out "$WORK/bad"
refused "its FFNs are routed experts (distill moefy); prune the dense model" prune "$WORK/one/model.pt" \
  --calibration "$WORK/data" --out "$WORK/bad"
refuse "already has 4 experts per FFN" "$WORK/one/model.pt" --calibration "$WORK/data" --experts 4 --out "$WORK/bad"
echo "PASS moefy"
