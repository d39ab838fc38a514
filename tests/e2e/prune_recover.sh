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
source "$(dirname "$0")/lib.sh"                # man_lm, job, perplexity
man_lm
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
