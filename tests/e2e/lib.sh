# Shared set-up of the end-to-end scripts that train their own teachers and
# students in runs/<name> (sourced, not a test; ctest skips lib.sh):
#
#   source "$(dirname "$0")/lib.sh"
#   e2e_workdir amalgamation          # OUT=runs/amalgamation, emptied
#   demo_models                       # models/demo and runs/demo/summary.json, made when missing or stale
#   demo_data                         # $OUT/data/train (3000 noisy), $OUT/data/eval (1000 clean)
#   train NAME CONFIG --set ...       # 2 workers, run_dir $OUT/NAME, exported to $OUT/NAME/model
#   accuracy $OUT/NAME/model/model.pt [--classes 0,1]
#
# and, for the language-model scripts that source tests/mpi/lib.sh first
# (their $WORK, run_job, fail):
#   man_lm_data                       # $WORK/data/{train,eval} of man pages (512 SentencePiece pieces)
#   man_lm                            # man_lm_data, and runs/dense/model: the dense LM
#   job NAME STUDENT STEPS LR         # 2 workers, run_dir $WORK/runs/NAME, exported to .../model; extra YAML on stdin
#   perplexity MODEL                  # held-out perplexity on $WORK/data/eval
#   moefy_and_recover MODEL LABEL     # moefy against a random split, then recovery (moefy_*.sh)
set -euo pipefail
SRC="${DISTILL_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
cd "$SRC"
BIN="${DISTILL_BIN:-build/distill}"
export OMP_NUM_THREADS=1

e2e_workdir() {
  OUT="runs/$1"
  rm -rf "$OUT"
  mkdir -p "$OUT"
}

# The demo's teachers, student and baseline (e2e.demo makes them; made here
# when they are missing or older than the binary).
demo_models() {
  if [ ! -f runs/demo/summary.json ] || [ "$BIN" -nt runs/demo/summary.json ]; then launch/demo.sh; fi
}

# The demo task's data (launch/demo.sh): the same seeds, so the same samples.
demo_data() {
  "$BIN" prepare-data --synthetic classification --out "$OUT/data/train" --num-samples 3000 --seed 11 >/dev/null
  "$BIN" prepare-data --synthetic classification --out "$OUT/data/eval" --num-samples 1000 --seed 12 \
    --label-noise 0 >/dev/null
}

train() {  # train NAME CONFIG [--set a.b=c]...
  local name="$1" config="$2"; shift 2
  launch/distill-mpirun -n 2 "$config" --set run_dir="$OUT/$name" --set metrics.port=0 "$@" > "$OUT/$name.log" 2>&1 \
    || { tail -30 "$OUT/$name.log"; echo "FAIL: $name training"; exit 1; }
  "$BIN" export "$OUT/$name/checkpoints/latest" --out "$OUT/$name/model" >/dev/null
}

accuracy() {  # accuracy MODEL [--data DIR] [--classes ...]: on $OUT/data/eval unless --data is given
  local model="$1"; shift
  local data=(--data "$OUT/data/eval")
  [ "${1:-}" = "--data" ] && { data=(--data "$2"); shift 2; }
  "$BIN" evaluate --model "$model" "${data[@]}" "$@" | sed -E 's/.*"accuracy": ([0-9.]+).*/\1/'
}

# 300 man pages, tokenized by a SentencePiece model spm_train fits to them
# (512 pieces), in sequences of 64 tokens: $WORK/data/train and $WORK/data/eval.
man_lm_data() {
  command -v spm_train >/dev/null || fail "spm_train is needed (package sentencepiece): run launch/setup.sh"
  "$PY" "$SRC/tests/e2e/man_corpus.py" "$WORK/train.jsonl" --pages 300
  "$PY" "$SRC/tests/e2e/man_corpus.py" "$WORK/eval.jsonl" --pages 25 --skip 400
  "$PY" -c "import json, sys; [print(json.loads(l)['text']) for l in open(sys.argv[1])]" "$WORK/train.jsonl" \
    > "$WORK/train.txt"
  spm_train --input="$WORK/train.txt" --model_prefix="$WORK/spm" --vocab_size=512 --model_type=bpe \
    --byte_fallback=true --character_coverage=0.9995 --minloglevel=2 > "$WORK/spm.log" 2>&1 ||
    { tail "$WORK/spm.log"; fail "spm_train"; }
  "$BIN" prepare-data --text "$WORK/train.jsonl" --tokenizer "$WORK/spm.model" --seq-len 64 --max-tokens 400000 \
    --out "$WORK/data/train" > /dev/null || fail "prepare-data train"
  "$BIN" prepare-data --text "$WORK/eval.jsonl" --tokenizer "$WORK/spm.model" --seq-len 64 --max-tokens 8000 \
    --out "$WORK/data/eval" > /dev/null || fail "prepare-data eval"
}

# A decoder (d 96, 2 layers, d_ff 192) trained 800 steps on man_lm_data.
man_lm() {
  man_lm_data
  "$BIN" init-model --arch decoder-lm --vocab 512 --max-len 64 --d-model 96 --layers 2 --heads 2 --d-ff 192 \
    --dropout 0 --seed 11 --out "$WORK/init.pt" > /dev/null || fail "init-model"
  job dense "$WORK/init.pt" 800 0.004 < /dev/null
}

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

# moefy_and_recover DENSE_MODEL LABEL: DENSE_MODEL (trained on man_lm_data)
# moefied into 8 experts per FFN on 128 calibration sequences, top-2 split by
# co-activation and at random, and top-4. Held-out perplexity must order
# dense <= top-4 < co-activation top-2 < random top-2, the co-activation split
# keep more co-activation inside experts and a smaller FFN error than the
# random one in every layer; then top-2 distilled 300 steps from the dense
# model (routers fixed) must win back at least half of the gap.
moefy_and_recover() {
  local dense_model="$1" label="$2" dense routed random top4 recovered
  dense=$(perplexity "$dense_model")
  local name
  for name in top2:"--top-k 2" random2:"--top-k 2 --split random" top4:"--top-k 4"; do
    # shellcheck disable=SC2086  # the options split on purpose
    "$BIN" moefy "$dense_model" --calibration "$WORK/data/train" --eval "$WORK/data/eval" --samples 128 --experts 8 \
      --out "$WORK/${name%%:*}" ${name#*:} > "$WORK/${name%%:*}.log" 2>&1 ||
      { cat "$WORK/${name%%:*}.log"; fail "moefy ${name%%:*}"; }
  done
  routed=$(perplexity "$WORK/top2/model.pt"); random=$(perplexity "$WORK/random2/model.pt")
  top4=$(perplexity "$WORK/top4/model.pt")
  fraction() { "$PY" -c "import json, sys; print(round(json.load(open(sys.argv[1]))['active_ffn_fraction'], 3))" "$1"; }
  echo "$label, held-out perplexity: dense $dense; 8 experts top-2 ($(fraction "$WORK/top2/moefy_report.json") of" \
    "the FFN per token): co-activation split $routed, random split $random; top-4" \
    "($(fraction "$WORK/top4/moefy_report.json")): $top4"
  "$PY" - "$WORK/top2/moefy_report.json" "$WORK/random2/moefy_report.json" "$routed" <<'PY' ||
import json, sys
r, random = (json.load(open(p)) for p in sys.argv[1:3])
assert abs(r["eval"]["after"]["perplexity"] - float(sys.argv[3])) < 1e-3 * float(sys.argv[3]), r["eval"]
for l, b in zip(r["layers"], random["layers"]):
    print(f"{l['layer']}: co-activation inside experts {l['co_activation_inside_experts']:.3f} (random split "
          f"{b['co_activation_inside_experts']:.3f}), router recall {l['router_recall']:.3f} ({b['router_recall']:.3f}), "
          f"FFN relative error {l['ffn_relative_error']:.3f} ({b['ffn_relative_error']:.3f})")
    assert l["co_activation_inside_experts"] > b["co_activation_inside_experts"], (l, b)
    assert l["ffn_relative_error"] < b["ffn_relative_error"], (l, b)
PY
    fail "the co-activation split is no better than a random one, or moefy_report.json disagrees with evaluate"
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
  echo "$label, 8 experts top-2: held-out perplexity $routed after moefy, $recovered after 300 steps of" \
    "distillation (dense $dense)"
  awk -v d="$dense" -v p="$routed" -v r="$recovered" 'BEGIN { exit !(p - r >= 0.5 * (p - d)) }' ||
    fail "recovery won back less than half the gap ($routed -> $recovered, dense $dense)"
}
