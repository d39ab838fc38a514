#!/usr/bin/env bash
# distill prune on Hugging Face GPT-2 and BERT imports (tests/fixtures/hf):
# every linear layer of every block pruned 2:4 (GPT-2: c_attn, attn c_proj,
# c_fc, mlp c_proj; BERT: query, key, value, attention output, intermediate,
# output); 2 ranks give the 1-rank model bit for bit; SparseGPT's output
# error is below magnitude's in every layer; the pruned GPT-2 trains with
# recovery.yaml and `export --format hf` writes its masks in the Conv1D
# layout ([in, out]).
source "$(dirname "$0")/lib.sh"
"$BIN" import-hf "$SRC/tests/fixtures/hf/gpt2" --out "$WORK/gpt2.pt" > /dev/null || fail "import-hf gpt2"
"$BIN" import-hf "$SRC/tests/fixtures/hf/bert" --out "$WORK/bert.pt" > /dev/null || fail "import-hf bert"
"$BIN" prepare-data --synthetic language-modeling --vocab 100 --length 16 --num-samples 96 --out "$WORK/lm" \
  >/dev/null || fail "prepare-data lm"
"$BIN" prepare-data --synthetic classification --vocab 90 --length 16 --classes-count 3 --num-samples 96 \
  --out "$WORK/cls" >/dev/null || fail "prepare-data classification"

for model in gpt2 bert; do
  data="$WORK/lm"; [ "$model" = bert ] && data="$WORK/cls"
  prune() { "$BIN" prune "$WORK/$model.pt" --calibration "$data" --samples 48 --sparsity 2:4 "$@"; }
  prune --method sparsegpt --out "$WORK/$model-one" > "$WORK/$model-one.log" 2>&1 ||
    { cat "$WORK/$model-one.log"; fail "prune $model"; }
  prune --method magnitude --out "$WORK/$model-mag" > "$WORK/$model-mag.log" 2>&1 ||
    { cat "$WORK/$model-mag.log"; fail "prune $model magnitude"; }
  timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS -np 2 "$BIN" prune \
    "$WORK/$model.pt" --calibration "$data" --samples 48 --sparsity 2:4 --method sparsegpt --out "$WORK/$model-two" \
    > "$WORK/$model-two.log" 2>&1 || { cat "$WORK/$model-two.log"; fail "prune $model under mpirun"; }
  compare "$WORK/$model-one/model.safetensors" "$WORK/$model-two/model.safetensors" --exact ||
    fail "$model: 2 ranks differ from 1"
  "$PY" - "$SRC" "$WORK/$model-one" "$WORK/$model-mag" "$model" <<'PY' || fail "$model: the masks or the report are wrong"
import json, os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "unit"))
from read_safetensors import read
masks = read(os.path.join(sys.argv[2], "masks.safetensors"))[1]
sgpt = json.load(open(os.path.join(sys.argv[2], "sparsity_report.json")))["tensors"]
mag = json.load(open(os.path.join(sys.argv[3], "sparsity_report.json")))["tensors"]
linears = ("qkv", "out", "ff1", "ff2") if sys.argv[4] == "gpt2" else ("q", "k", "v", "out", "ff1", "ff2")
names = [f"layer{i}.{l}_weight" for i in range(2) for l in linears]
assert sorted(masks) == sorted(names) == sorted(sgpt), sorted(masks)
for name, (_, shape, m) in masks.items():
    assert (m.reshape(shape[0], -1, 4).sum(-1) == 2).all(), name
    assert sgpt[name]["relative_error"] < mag[name]["relative_error"], (name, sgpt[name], mag[name])
print(sys.argv[4], len(masks), "tensors 2:4, SparseGPT below magnitude in each")
PY
done

cat > "$WORK/job.yaml" <<YAML
name: prune-hf-gpt2
run_dir: $WORK/run
seed: 5
student: {path: $WORK/gpt2-one/model.pt}
data: {train: $WORK/lm}
training: {batch_size: 8, max_steps: 3}
optimizer: {lr: 0.001}
checkpoint: {every_steps: 0}
metrics: {port: 0}
runtime: {watchdog_seconds: 60, collective_timeout_seconds: 60}
YAML
cat "$WORK/gpt2-one/recovery.yaml" >> "$WORK/job.yaml"
run_job 2 "$WORK/job.yaml" > "$WORK/recover.log" 2>&1 || { cat "$WORK/recover.log"; fail "train from the pruned GPT-2"; }
"$BIN" export "$WORK/run/checkpoints/latest" --format hf --out "$WORK/hf" > "$WORK/export.log" 2>&1 ||
  { cat "$WORK/export.log"; fail "export --format hf"; }
"$PY" - "$SRC" "$WORK/gpt2-one/masks.safetensors" "$WORK/hf/model.safetensors" <<'PY' || fail "the export lost the masks"
import os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "unit"))
from read_safetensors import read
masks, hf = read(sys.argv[2])[1], read(sys.argv[3])[1]
theirs = {"qkv": "attn.c_attn", "out": "attn.c_proj", "ff1": "mlp.c_fc", "ff2": "mlp.c_proj"}
for name, (_, _, m) in masks.items():
    layer, linear = name.split(".")
    key = f"transformer.h.{layer[5:]}.{theirs[linear[:-7]]}.weight"
    if key not in hf:
        key = key[len("transformer."):]
    w = hf[key][2].T  # Conv1D: [in, out]
    assert (w[m == 0] == 0).all() and (w[m == 1] != 0).mean() > 0.99, name
print(len(masks), "masks in the Hugging Face export")
PY
echo "PASS prune_hf_gpt2_bert"
