#!/usr/bin/env bash
# MoEfication of a Llama-family model trained here (docs/sparsity.md#moefication):
# a Llama in the Hugging Face layout (tests/e2e/make_tiny_llama.py: d 96, 2
# layers, SwiGLU of 256 neurons, random weights) is imported, trained 800
# steps on man pages (man_lm_data), then moefied into 8 experts of 32 neurons
# per FFN on 128 calibration sequences. A neuron counts as active where its
# gate pre-activation is positive; splitting by co-activation must beat a
# random split with the same routers (held-out perplexity, and the FFN's error
# in every layer), top-4 must sit between the dense model and top-2, and 300
# steps of distillation from the dense model (routers fixed) must win back at
# least half of the perplexity top-2 cost.
source "$(dirname "$0")/../mpi/lib.sh"         # SRC, BIN, PY, WORK, run_job, fail
source "$(dirname "$0")/lib.sh"                # man_lm_data, job, perplexity
man_lm_data
"$PY" "$SRC/tests/e2e/make_tiny_llama.py" "$WORK/llama-hf" --vocab 512 --hidden 96 --intermediate 256 --layers 2 \
  --heads 2 --kv-heads 1 --seed 4
"$BIN" import-hf "$WORK/llama-hf" --out "$WORK/llama.pt" > /dev/null || fail "import-hf"
job dense "$WORK/llama.pt" 800 0.004 < /dev/null
dense_model="$WORK/runs/dense/model/model.pt"
dense=$(perplexity "$dense_model")

moefy() {  # moefy NAME ARGS...
  local name="$1"; shift
  "$BIN" moefy "$dense_model" --calibration "$WORK/data/train" --eval "$WORK/data/eval" --samples 128 --experts 8 \
    --out "$WORK/$name" "$@" > "$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log"; fail "moefy $name"; }
}
moefy top2 --top-k 2
moefy random2 --top-k 2 --split random
moefy top4 --top-k 4
routed=$(perplexity "$WORK/top2/model.pt"); random=$(perplexity "$WORK/random2/model.pt")
top4=$(perplexity "$WORK/top4/model.pt")
fraction() { "$PY" -c "import json, sys; print(round(json.load(open(sys.argv[1]))['active_ffn_fraction'], 3))" "$1"; }
echo "Llama, held-out perplexity: dense $dense; 8 experts top-2 ($(fraction "$WORK/top2/moefy_report.json") of the" \
  "FFN per token): co-activation split $routed, random split $random; top-4" \
  "($(fraction "$WORK/top4/moefy_report.json")): $top4"
"$PY" - "$WORK/top2/moefy_report.json" "$WORK/random2/moefy_report.json" <<'PY' ||
import json, sys
r, random = (json.load(open(p)) for p in sys.argv[1:3])
for l, b in zip(r["layers"], random["layers"]):
    print(f"{l['layer']}: co-activation inside experts {l['co_activation_inside_experts']:.3f} (random split "
          f"{b['co_activation_inside_experts']:.3f}), router recall {l['router_recall']:.3f} ({b['router_recall']:.3f}), "
          f"FFN relative error {l['ffn_relative_error']:.3f} ({b['ffn_relative_error']:.3f})")
    assert l["co_activation_inside_experts"] > b["co_activation_inside_experts"], (l, b)
    assert l["ffn_relative_error"] < b["ffn_relative_error"], (l, b)
PY
  fail "the co-activation split is no better than a random one"
awk -v d="$dense" -v c="$routed" -v r="$random" -v f="$top4" 'BEGIN { exit !(d < c && c < r && d <= f && f < c) }' ||
  fail "expected dense <= top-4 < co-activation top-2 < random top-2"

job recovered "$WORK/top2/model.pt" 300 0.001 <<YAML
distill:
  teachers:
    - {name: dense, path: $dense_model}
  task_weight: 0.5
  kd_weight: 0.5
  temperature: 1.0
YAML
recovered=$(perplexity "$WORK/runs/recovered/model/model.pt")
echo "Llama, 8 experts top-2: held-out perplexity $routed after moefy, $recovered after 300 steps of distillation" \
  "(dense $dense)"
awk -v d="$dense" -v p="$routed" -v r="$recovered" 'BEGIN { exit !(p - r >= 0.5 * (p - d)) }' ||
  fail "recovery won back less than half the gap ($routed -> $recovered, dense $dense)"
echo "PASS moefy_llama_text"
