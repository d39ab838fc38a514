#!/usr/bin/env bash
# distill moefy on the GPT-2 and BERT imports (GELU FFNs: experts own rows of
# ff1, Hugging Face's c_fc / intermediate.dense, and columns of ff2, c_proj /
# output.dense), alone and under mpirun: 2 ranks split the neurons as 1 rank
# does and fit the same routers; the experts are the checkpoint's neurons
# reordered (GPT-2's Conv1D columns and rows, BERT's linear rows and columns);
# with every expert running the routed model is the dense one; the routed
# GPT-2 trains in a 2-worker job and the routed BERT classifier evaluates.
source "$(dirname "$0")/lib.sh"
"$BIN" prepare-data --synthetic language-modeling --vocab 100 --length 16 --num-samples 128 --out "$WORK/lm100" \
  >/dev/null || fail "prepare-data (vocab 100)"
"$BIN" prepare-data --synthetic classification --vocab 90 --length 16 --classes-count 3 --num-samples 96 \
  --out "$WORK/cls90" >/dev/null || fail "prepare-data (classification)"

for case in gpt2:lm100 bert:cls90; do
  model="${case%%:*}" data="$WORK/${case##*:}"
  "$BIN" import-hf "$SRC/tests/fixtures/hf/$model" --out "$WORK/$model.pt" > /dev/null || fail "import-hf $model"
  moefy() { "$BIN" moefy "$WORK/$model.pt" --calibration "$data" --samples 64 --experts 4 --eval "$data" "$@"; }
  moefy --top-k 2 --out "$WORK/$model-one" > "$WORK/$model-one.log" 2>&1 ||
    { cat "$WORK/$model-one.log"; fail "moefy $model"; }
  timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS -np 2 "$BIN" moefy \
    "$WORK/$model.pt" --calibration "$data" --samples 64 --experts 4 --top-k 2 --out "$WORK/$model-two" \
    > "$WORK/$model-two.log" 2>&1 || { cat "$WORK/$model-two.log"; fail "moefy $model under mpirun"; }
  grep -q "over 2 ranks" "$WORK/$model-two.log" || fail "moefy $model under mpirun did not use 2 ranks"
  moefy --top-k 4 --out "$WORK/$model-all" > "$WORK/$model-all.log" 2>&1 ||
    { cat "$WORK/$model-all.log"; fail "moefy $model top-4 of 4"; }
  same_moefied "$WORK/$model-one" "$WORK/$model-two" || fail "$model: 2 ranks differ from 1"
  "$PY" - "$SRC" "$WORK" "$model" <<'PY' || fail "the moefied $model is wrong"
import json, os, sys
import numpy as np
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "unit"))
from read_safetensors import read
work, model = sys.argv[2], sys.argv[3]
one = read(os.path.join(work, model + "-one", "model.safetensors"))[1]
hf = read(os.path.join(sys.argv[1], "tests", "fixtures", "hf", model, "model.safetensors"))[1]
d, n = 48, {"gpt2": 192, "bert": 96}[model]
for i in range(2):  # ff1 row j, its bias and ff2 column j move together
    ours = np.concatenate([one[f"layer{i}.ff1_weight"][2], one[f"layer{i}.ff1_bias"][2][:, None],
                           one[f"layer{i}.ff2_weight"][2].T], 1)
    if model == "gpt2":  # Conv1D weights are [in, out]
        p = f"transformer.h.{i}.mlp."
        dense = np.concatenate([hf[p + "c_fc.weight"][2].T, hf[p + "c_fc.bias"][2][:, None],
                                hf[p + "c_proj.weight"][2]], 1)
    else:
        p = f"bert.encoder.layer.{i}."
        dense = np.concatenate([hf[p + "intermediate.dense.weight"][2], hf[p + "intermediate.dense.bias"][2][:, None],
                                hf[p + "output.dense.weight"][2].T], 1)
    assert ours.shape == (n, 2 * d + 1), ours.shape
    assert sorted(map(tuple, ours.tolist())) == sorted(map(tuple, dense.tolist())), f"layer{i}: not a permutation"
    assert (ours != dense).any(), f"layer{i}: no neuron moved"
report = json.load(open(os.path.join(work, model + "-one", "moefy_report.json")))
per_neuron = 2 * d + 1
expected = (per_neuron * 2 * (n // 4) + d + 4 * (d + 1)) / (per_neuron * n + d)
assert abs(report["active_ffn_fraction"] - expected) < 1e-9, (report["active_ffn_fraction"], expected)
for l in report["layers"]:
    assert l["expert_width"] == n // 4 and 0 < l["router_recall"] <= 1 + 1e-9 and 0 < l["ffn_relative_error"] < 1, l
full = json.load(open(os.path.join(work, model + "-all", "moefy_report.json")))
assert all(l["ffn_relative_error"] < 1e-5 for l in full["layers"]), full["layers"]
before, after = full["eval"]["before"], full["eval"]["after"]
assert abs(before["loss"] - after["loss"]) < 1e-5 and before["accuracy"] == after["accuracy"], full["eval"]
print(model, "experts and routers agree across 1 and 2 ranks; top-4 of 4 is the dense model")
PY
done

# The routed BERT classifier evaluates like any student; the routed GPT-2 trains.
"$BIN" evaluate --model "$WORK/bert-one/model.pt" --data "$WORK/cls90" | grep -q '"accuracy"' ||
  fail "evaluate the moefied BERT"
train_moefied "$WORK/gpt2-one" "$WORK/lm100" layer0.ff1_weight || fail "train the moefied GPT-2"
refused "routed experts (distill moefy: 4 per FFN, top-2)" export "$WORK/run/checkpoints/latest" --format hf \
  --out "$WORK/bad"
refused "layer0's 96 FFN neurons do not split into --experts 5" moefy "$WORK/bert.pt" --calibration "$WORK/cls90" \
  --experts 5 --out "$WORK/bad"
echo "PASS moefy_gpt2_bert"
