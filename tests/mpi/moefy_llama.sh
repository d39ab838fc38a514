#!/usr/bin/env bash
# distill moefy on a Llama-family import (SwiGLU FFNs: experts own rows of
# gate and up and columns of down; a neuron is active where its gate
# pre-activation is positive), alone and under mpirun: 2 ranks split the
# neurons as 1 rank does and fit the same routers; the experts are the dense
# model's neurons reordered; with every expert running the routed model is
# the dense one; the routed model evaluates, trains in a 2-worker job, and
# exports as TorchScript, while export --format hf (no Hugging Face layout
# adds experts unweighted) and prune refuse it by name.
source "$(dirname "$0")/lib.sh"
make_tiny_lm_data "$WORK/data"
"$BIN" import-hf "$SRC/tests/fixtures/hf/llama" --out "$WORK/llama.pt" > /dev/null || fail "import-hf llama"
moefy() { "$BIN" moefy "$WORK/llama.pt" --calibration "$WORK/data" --samples 64 --experts 4 "$@"; }

moefy --top-k 2 --out "$WORK/one" > "$WORK/one.log" 2>&1 || { cat "$WORK/one.log"; fail "moefy llama"; }
timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS -np 2 "$BIN" moefy \
  "$WORK/llama.pt" --calibration "$WORK/data" --samples 64 --experts 4 --top-k 2 --out "$WORK/two" \
  > "$WORK/two.log" 2>&1 || { cat "$WORK/two.log"; fail "moefy llama under mpirun"; }
grep -q "over 2 ranks" "$WORK/two.log" || fail "moefy under mpirun did not use 2 ranks"
moefy --top-k 4 --out "$WORK/all" > "$WORK/all.log" 2>&1 || { cat "$WORK/all.log"; fail "moefy llama top-4 of 4"; }
moefy --top-k 2 --split random --out "$WORK/random" > "$WORK/random.log" 2>&1 ||
  { cat "$WORK/random.log"; fail "moefy llama, random split"; }
same_moefied "$WORK/one" "$WORK/two" || fail "Llama: 2 ranks differ from 1"
"$PY" - "$SRC" "$WORK" <<'PY' || fail "the moefied Llama is wrong"
import json, os, sys
import numpy as np
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "unit"))
from read_safetensors import read
work = sys.argv[2]
one = read(os.path.join(work, "one", "model.safetensors"))[1]
hf = read(os.path.join(sys.argv[1], "tests", "fixtures", "hf", "llama", "model.safetensors"))[1]
for i in range(2):  # gate row j, up row j and down column j move together
    ours = np.concatenate([one[f"layer{i}.gate_weight"][2], one[f"layer{i}.up_weight"][2],
                           one[f"layer{i}.down_weight"][2].T], 1)
    mlp = f"model.layers.{i}.mlp."
    dense = np.concatenate([hf[mlp + "gate_proj.weight"][2], hf[mlp + "up_proj.weight"][2],
                            hf[mlp + "down_proj.weight"][2].T], 1)
    assert sorted(map(tuple, ours.tolist())) == sorted(map(tuple, dense.tolist())), f"layer{i}: not a permutation"
    assert (ours != dense).any(), f"layer{i}: no neuron moved"
report = json.load(open(os.path.join(work, "one", "moefy_report.json")))
d, n = 64, 112
expected = (2 * 28 * 3 * d + 4 * (d + 1)) / (n * 3 * d)
assert abs(report["active_ffn_fraction"] - expected) < 1e-9, report["active_ffn_fraction"]
random = json.load(open(os.path.join(work, "random", "moefy_report.json")))
for l, r in zip(report["layers"], random["layers"]):
    assert l["expert_width"] == 28 and 0 < l["router_recall"] <= 1 + 1e-9 and 0 < l["ffn_relative_error"] < 1, l
    # The split keeps more co-activation inside experts than a random one (which, diagonal included, is above 1/4).
    assert l["co_activation_inside_experts"] > r["co_activation_inside_experts"], (l, r)
full = json.load(open(os.path.join(work, "all", "moefy_report.json")))
assert all(l["ffn_relative_error"] < 1e-5 for l in full["layers"]), full["layers"]
before, after = full["eval"]["before"], full["eval"]["after"]
assert abs(before["loss"] - after["loss"]) < 1e-5 and before["accuracy"] == after["accuracy"], full["eval"]
print("Llama experts and routers agree across 1 and 2 ranks; top-4 of 4 is the dense model")
PY

# Training the moefied Llama: the experts train, the routers stay as fitted.
train_moefied "$WORK/one" "$WORK/data" layer0.gate_weight || fail "train the moefied Llama"
"$BIN" export "$WORK/run/checkpoints/latest" --out "$WORK/trained" > /dev/null || fail "export the trained Llama"
"$BIN" evaluate --model "$WORK/trained/model.pt" --data "$WORK/data" | grep -q '"perplexity"' ||
  fail "evaluate the trained moefied Llama"

# What cannot hold routed experts refuses them by name.
refused "routed experts (distill moefy: 4 per FFN, top-2)" export "$WORK/run/checkpoints/latest" --format hf \
  --out "$WORK/bad"
refused "its FFNs are routed experts" prune "$WORK/one/model.pt" --calibration "$WORK/data" --out "$WORK/bad"
refused "layer0's 112 FFN neurons do not split into --experts 5" moefy "$WORK/llama.pt" --calibration "$WORK/data" \
  --experts 5 --out "$WORK/bad"
echo "PASS moefy_llama"
