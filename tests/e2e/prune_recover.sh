#!/usr/bin/env bash
# One-shot pruning of a language model trained here, then recovery by
# distillation from the dense model (docs/sparsity.md#one-shot-pruning): a
# decoder (d 96, 2 layers) trained on 300 man pages (a SentencePiece model
# spm_train fits to them, 512 pieces) is pruned to 50% with SparseGPT, Wanda
# and magnitude on 128 calibration sequences: held-out perplexity must come
# out in the published order, SparseGPT closest to dense, then Wanda, then
# magnitude. Then the 2:4 SparseGPT model is distilled from the dense one
# with its masks fixed (recovery.yaml) for 300 steps: it must win back at
# least half of the perplexity the pruning cost, with every pruned entry
# still zero.
source "$(dirname "$0")/../mpi/lib.sh"         # SRC, BIN, PY, WORK, run_job, fail
command -v spm_train >/dev/null || fail "spm_train is needed (package sentencepiece): run launch/setup.sh"
"$PY" "$SRC/tests/e2e/man_corpus.py" "$WORK/train.jsonl" --pages 300
"$PY" "$SRC/tests/e2e/man_corpus.py" "$WORK/eval.jsonl" --pages 25 --skip 400
"$PY" -c "import json, sys; [print(json.loads(l)['text']) for l in open(sys.argv[1])]" "$WORK/train.jsonl" > "$WORK/train.txt"
spm_train --input="$WORK/train.txt" --model_prefix="$WORK/spm" --vocab_size=512 --model_type=bpe --byte_fallback=true \
  --character_coverage=0.9995 --minloglevel=2 > "$WORK/spm.log" 2>&1 || { tail "$WORK/spm.log"; fail "spm_train"; }
"$BIN" prepare-data --text "$WORK/train.jsonl" --tokenizer "$WORK/spm.model" --seq-len 64 --max-tokens 400000 \
  --out "$WORK/data/train" > /dev/null || fail "prepare-data train"
"$BIN" prepare-data --text "$WORK/eval.jsonl" --tokenizer "$WORK/spm.model" --seq-len 64 --max-tokens 8000 \
  --out "$WORK/data/eval" > /dev/null || fail "prepare-data eval"
"$BIN" init-model --arch decoder-lm --vocab 512 --max-len 64 --d-model 96 --layers 2 --heads 2 --d-ff 192 \
  --dropout 0 --seed 11 --out "$WORK/init.pt" > /dev/null || fail "init-model"
perplexity() { "$BIN" evaluate --model "$1" --data "$WORK/data/eval" | grep -o '"perplexity": [0-9.e+]*' | awk '{print $2}'; }

job() {  # job NAME STUDENT STEPS LR [extra YAML on stdin]
  cat > "$WORK/$1.yaml" <<YAML
name: $1
run_dir: $WORK/runs/$1
seed: 7
student: {path: $2}
data: {train: $WORK/data/train, eval: $WORK/data/eval}
training: {batch_size: 16, max_steps: $3}
optimizer: {lr: $4, warmup_steps: 10}
checkpoint: {every_steps: 0}
metrics: {port: 0}
runtime: {watchdog_seconds: 60, collective_timeout_seconds: 60}
YAML
  cat >> "$WORK/$1.yaml"
  run_job 2 "$WORK/$1.yaml" > "$WORK/$1.log" 2>&1 || { grep -v "^step" "$WORK/$1.log" | head -20; fail "job $1"; }
  "$BIN" export "$WORK/runs/$1/checkpoints/latest" --out "$WORK/runs/$1/model" > /dev/null || fail "export $1"
}
job dense "$WORK/init.pt" 800 0.004 < /dev/null
dense=$(perplexity "$WORK/runs/dense/model/model.pt")

for method in sparsegpt wanda magnitude; do
  "$BIN" prune "$WORK/runs/dense/model/model.pt" --calibration "$WORK/data/train" --samples 128 --method "$method" \
    --sparsity 0.5 --out "$WORK/$method" > "$WORK/$method.log" 2>&1 || { cat "$WORK/$method.log"; fail "prune $method"; }
done
sparsegpt=$(perplexity "$WORK/sparsegpt/model.pt"); wanda=$(perplexity "$WORK/wanda/model.pt")
magnitude=$(perplexity "$WORK/magnitude/model.pt")
echo "held-out perplexity: dense $dense; 50% SparseGPT $sparsegpt, Wanda $wanda, magnitude $magnitude"
awk -v d="$dense" -v s="$sparsegpt" -v w="$wanda" -v m="$magnitude" 'BEGIN { exit !(d < s && s < w && w < m) }' ||
  fail "not the published order (dense < SparseGPT < Wanda < magnitude)"

"$BIN" prune "$WORK/runs/dense/model/model.pt" --calibration "$WORK/data/train" --samples 128 --method sparsegpt \
  --sparsity 2:4 --out "$WORK/two_four" > "$WORK/two_four.log" 2>&1 || { cat "$WORK/two_four.log"; fail "prune 2:4"; }
pruned=$(perplexity "$WORK/two_four/model.pt")
job recovered "$WORK/two_four/model.pt" 300 0.001 <<YAML
distill:
  teachers:
    - {name: dense, path: $WORK/runs/dense/model/model.pt}
  task_weight: 0.5
  kd_weight: 0.5
  temperature: 1.0
$(cat "$WORK/two_four/recovery.yaml")
YAML
recovered=$(perplexity "$WORK/runs/recovered/model/model.pt")
echo "2:4 SparseGPT: held-out perplexity $pruned after pruning, $recovered after 300 steps of distillation (dense $dense)"
awk -v d="$dense" -v p="$pruned" -v r="$recovered" 'BEGIN { exit !(p - r >= 0.5 * (p - d)) }' ||
  fail "recovery won back less than half the gap ($pruned -> $recovered, dense $dense)"
"$PY" - "$SRC" "$WORK/two_four/masks.safetensors" "$WORK/runs/recovered/checkpoints/latest/model.safetensors" <<'PY' ||
import os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "tests", "unit"))
from read_safetensors import read
masks, after = read(sys.argv[2])[1], read(sys.argv[3])[1]
for name, (_, _, m) in masks.items():
    assert (after[name][2][m == 0] == 0).all(), name
PY
  fail "recovery trained pruned entries"
echo "PASS prune_recover"
