#!/usr/bin/env bash
# distill prune on a Hugging Face Llama (import-hf of tests/fixtures/hf/llama):
# all 7 linear layers of every block (q, k, v, o, gate, up, down) are pruned
# 2:4; 2 ranks give the 1-rank model bit for bit; SparseGPT's output error is
# below magnitude's in every layer; a train job with recovery.yaml keeps the
# masks, and `export --format hf` writes them in the Hugging Face names.
source "$(dirname "$0")/lib.sh"
"$BIN" import-hf "$SRC/tests/fixtures/hf/llama" --out "$WORK/llama.pt" > /dev/null || fail "import-hf"
"$BIN" prepare-data --synthetic language-modeling --vocab 96 --length 16 --num-samples 128 --out "$WORK/data" \
  >/dev/null || fail "prepare-data"
prune() { "$BIN" prune "$WORK/llama.pt" --calibration "$WORK/data" --samples 48 --sparsity 2:4 "$@"; }
prune --method sparsegpt --out "$WORK/one" > "$WORK/one.log" 2>&1 || { cat "$WORK/one.log"; fail "prune"; }
prune --method magnitude --out "$WORK/mag" > "$WORK/mag.log" 2>&1 || { cat "$WORK/mag.log"; fail "prune magnitude"; }
timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS -np 2 "$BIN" prune \
  "$WORK/llama.pt" --calibration "$WORK/data" --samples 48 --sparsity 2:4 --method sparsegpt --out "$WORK/two" \
  > "$WORK/two.log" 2>&1 || { cat "$WORK/two.log"; fail "prune under mpirun"; }
compare "$WORK/one/model.safetensors" "$WORK/two/model.safetensors" --exact || fail "2 ranks differ from 1"

"$PY" - "$SRC" "$WORK/one" "$WORK/mag" <<'PY' || fail "the masks or the report are wrong"
import json, os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "unit"))
from read_safetensors import read
masks = read(os.path.join(sys.argv[2], "masks.safetensors"))[1]
sgpt = json.load(open(os.path.join(sys.argv[2], "sparsity_report.json")))["tensors"]
mag = json.load(open(os.path.join(sys.argv[3], "sparsity_report.json")))["tensors"]
names = [f"layer{i}.{l}_weight" for i in range(2) for l in ("q", "k", "v", "o", "gate", "up", "down")]
assert sorted(masks) == sorted(names) == sorted(sgpt), sorted(masks)
for name, (_, shape, m) in masks.items():
    assert (m.reshape(shape[0], -1, 4).sum(-1) == 2).all(), name
    assert sgpt[name]["relative_error"] < mag[name]["relative_error"], (name, sgpt[name], mag[name])
PY

cat > "$WORK/job.yaml" <<YAML
name: prune-hf-llama
run_dir: $WORK/run
seed: 5
student: {path: $WORK/one/model.pt}
data: {train: $WORK/data}
training: {batch_size: 8, max_steps: 3}
optimizer: {lr: 0.001}
checkpoint: {every_steps: 0}
metrics: {port: 0}
runtime: {watchdog_seconds: 60, collective_timeout_seconds: 60}
YAML
cat "$WORK/one/recovery.yaml" >> "$WORK/job.yaml"
run_job 2 "$WORK/job.yaml" > "$WORK/recover.log" 2>&1 || { cat "$WORK/recover.log"; fail "train from the pruned model"; }
"$BIN" export "$WORK/run/checkpoints/latest" --format hf --out "$WORK/hf" > "$WORK/export.log" 2>&1 ||
  { cat "$WORK/export.log"; fail "export --format hf"; }
"$PY" - "$SRC" "$WORK/one/masks.safetensors" "$WORK/hf/model.safetensors" <<'PY' || fail "the export lost the masks"
import os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "unit"))
from read_safetensors import read
masks, hf = read(sys.argv[2])[1], read(sys.argv[3])[1]
theirs = {"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj", "o": "self_attn.o_proj",
          "gate": "mlp.gate_proj", "up": "mlp.up_proj", "down": "mlp.down_proj"}
for name, (_, _, m) in masks.items():
    layer, linear = name.split(".")
    w = hf[f"model.layers.{layer[5:]}.{theirs[linear[:-7]]}.weight"][2]
    assert (w[m == 0] == 0).all() and (w[m == 1] != 0).mean() > 0.99, name
PY
echo "PASS prune_hf_llama"
