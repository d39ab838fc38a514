#!/usr/bin/env bash
# distill prune on Hugging Face imports (import-hf of tests/fixtures/hf):
# Llama (q, k, v, o, gate, up, down), GPT-2 (c_attn, attn c_proj, c_fc, mlp
# c_proj) and BERT (query, key, value, attention output, intermediate,
# output): every linear layer of every block pruned 2:4; 2 ranks choose the
# 1-rank masks, and weights within 1e-5 (the float64 sums over ranks are
# added in another order); SparseGPT's output error is below magnitude's in
# every layer. The pruned Llama and GPT-2 train with recovery.yaml and
# `export --format hf` writes their masks in the Hugging Face names and
# layouts (GPT-2's Conv1D weights [in, out]).
source "$(dirname "$0")/lib.sh"
"$BIN" prepare-data --synthetic language-modeling --vocab 96 --length 16 --num-samples 128 --out "$WORK/lm96" \
  >/dev/null || fail "prepare-data"
"$BIN" prepare-data --synthetic language-modeling --vocab 100 --length 16 --num-samples 96 --out "$WORK/lm100" \
  >/dev/null || fail "prepare-data (vocab 100)"
"$BIN" prepare-data --synthetic classification --vocab 90 --length 16 --classes-count 3 --num-samples 96 \
  --out "$WORK/cls90" >/dev/null || fail "prepare-data (classification)"

for case in llama:lm96 gpt2:lm100 bert:cls90; do
  model="${case%%:*}" data="$WORK/${case##*:}"
  "$BIN" import-hf "$SRC/tests/fixtures/hf/$model" --out "$WORK/$model.pt" > /dev/null || fail "import-hf $model"
  prune() { "$BIN" prune "$WORK/$model.pt" --calibration "$data" --samples 48 --sparsity 2:4 "$@"; }
  prune --method sparsegpt --out "$WORK/$model-one" > "$WORK/$model-one.log" 2>&1 ||
    { cat "$WORK/$model-one.log"; fail "prune $model"; }
  prune --method magnitude --out "$WORK/$model-mag" > "$WORK/$model-mag.log" 2>&1 ||
    { cat "$WORK/$model-mag.log"; fail "prune $model magnitude"; }
  timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS -np 2 "$BIN" prune \
    "$WORK/$model.pt" --calibration "$data" --samples 48 --sparsity 2:4 --method sparsegpt --out "$WORK/$model-two" \
    > "$WORK/$model-two.log" 2>&1 || { cat "$WORK/$model-two.log"; fail "prune $model under mpirun"; }
  # The same masks; the weights up to the order of the float64 sums over ranks.
  compare "$WORK/$model-one/masks.safetensors" "$WORK/$model-two/masks.safetensors" --exact ||
    fail "$model: 2 ranks chose other masks than 1"
  compare "$WORK/$model-one/model.safetensors" "$WORK/$model-two/model.safetensors" --atol 1e-5 ||
    fail "$model: 2 ranks differ from 1"
  "$PY" - "$SRC" "$WORK/$model-one" "$WORK/$model-mag" "$model" <<'PY' || fail "$model: the masks or the report are wrong"
import json, os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "unit"))
from read_safetensors import read
masks = read(os.path.join(sys.argv[2], "masks.safetensors"))[1]
sgpt = json.load(open(os.path.join(sys.argv[2], "sparsity_report.json")))["tensors"]
mag = json.load(open(os.path.join(sys.argv[3], "sparsity_report.json")))["tensors"]
linears = {"llama": ("q", "k", "v", "o", "gate", "up", "down"), "gpt2": ("qkv", "out", "ff1", "ff2"),
           "bert": ("q", "k", "v", "out", "ff1", "ff2")}[sys.argv[4]]
names = [f"layer{i}.{l}_weight" for i in range(2) for l in linears]
assert sorted(masks) == sorted(names) == sorted(sgpt), sorted(masks)
for name, (_, shape, m) in masks.items():
    assert (m.reshape(shape[0], -1, 4).sum(-1) == 2).all(), name
    assert sgpt[name]["relative_error"] < mag[name]["relative_error"], (name, sgpt[name], mag[name])
print(sys.argv[4], len(masks), "tensors 2:4, SparseGPT below magnitude in each")
PY
done

for case in llama:lm96 gpt2:lm100; do
  model="${case%%:*}" data="$WORK/${case##*:}"
  cat > "$WORK/job-$model.yaml" <<YAML
name: prune-hf-$model
run_dir: $WORK/run-$model
seed: 5
student: {path: $WORK/$model-one/model.pt}
data: {train: $data}
training: {batch_size: 8, max_steps: 3}
optimizer: {lr: 0.001}
checkpoint: {every_steps: 0}
metrics: {port: 0}
runtime: {watchdog_seconds: 60, collective_timeout_seconds: 60}
YAML
  cat "$WORK/$model-one/recovery.yaml" >> "$WORK/job-$model.yaml"
  run_job 2 "$WORK/job-$model.yaml" > "$WORK/recover-$model.log" 2>&1 ||
    { cat "$WORK/recover-$model.log"; fail "train from the pruned $model"; }
  "$BIN" export "$WORK/run-$model/checkpoints/latest" --format hf --out "$WORK/hf-$model" > "$WORK/export.log" 2>&1 ||
    { cat "$WORK/export.log"; fail "$model: export --format hf"; }
  "$PY" - "$SRC" "$WORK/$model-one/masks.safetensors" "$WORK/hf-$model/model.safetensors" "$model" <<'PY' ||
import os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "unit"))
from read_safetensors import read
masks, hf = read(sys.argv[2])[1], read(sys.argv[3])[1]
llama = {"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj", "o": "self_attn.o_proj",
         "gate": "mlp.gate_proj", "up": "mlp.up_proj", "down": "mlp.down_proj"}
gpt2 = {"qkv": "attn.c_attn", "out": "attn.c_proj", "ff1": "mlp.c_fc", "ff2": "mlp.c_proj"}
for name, (_, _, m) in masks.items():
    layer, linear = name.split(".")
    if sys.argv[4] == "llama":
        w = hf[f"model.layers.{layer[5:]}.{llama[linear[:-7]]}.weight"][2]
    else:
        key = f"transformer.h.{layer[5:]}.{gpt2[linear[:-7]]}.weight"
        w = hf[key if key in hf else key[len("transformer."):]][2].T  # Conv1D: [in, out]
    assert (w[m == 0] == 0).all() and (w[m == 1] != 0).mean() > 0.99, name
print(sys.argv[4], len(masks), "masks in the Hugging Face export")
PY
    fail "$model: the export lost the masks"
done
echo "PASS prune_hf"
