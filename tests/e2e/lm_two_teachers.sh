#!/usr/bin/env bash
# Language-model distillation on real text with two teachers and reverse KL,
# with the teachers live (placement replicate), from their caches
# (placement cache) and served by two teacher ranks (placement pool): this
# machine's man pages, tokenized by a SentencePiece
# model spm_train fits to them (512 pieces). Two decoder teachers are trained
# first on 300 pages (400k tokens); the student sees 60 other pages only
# (60k tokens, the setting distillation is for: the teachers know more text
# than the student's data holds) and trains the same 450 steps without
# teachers, with live teachers, with cached ones and with pooled ones (both
# k = 64). Every distilled student must reach a lower held-out perplexity
# than the one trained without teachers, and the cached and pooled runs must
# land within 5% of the live one.
source "$(dirname "$0")/../mpi/lib.sh"         # SRC, BIN, PY, WORK, run_job, fail
command -v spm_train >/dev/null || fail "spm_train is needed (package sentencepiece): run launch/setup.sh"
"$PY" "$SRC/tests/e2e/man_corpus.py" "$WORK/train.jsonl" --pages 300
"$PY" "$SRC/tests/e2e/man_corpus.py" "$WORK/small.jsonl" --pages 60
"$PY" "$SRC/tests/e2e/man_corpus.py" "$WORK/eval.jsonl" --pages 25 --skip 400
"$PY" -c "import json, sys; [print(json.loads(l)['text']) for l in open(sys.argv[1])]" "$WORK/train.jsonl" > "$WORK/train.txt"
spm_train --input="$WORK/train.txt" --model_prefix="$WORK/spm" --vocab_size=512 --model_type=bpe --byte_fallback=true \
  --character_coverage=0.9995 --minloglevel=2 > "$WORK/spm.log" 2>&1 || { tail "$WORK/spm.log"; fail "spm_train"; }
"$BIN" prepare-data --text "$WORK/train.jsonl" --tokenizer "$WORK/spm.model" --seq-len 64 --max-tokens 400000 \
  --out "$WORK/data/train" > /dev/null || fail "prepare-data train"
"$BIN" prepare-data --text "$WORK/small.jsonl" --tokenizer "$WORK/spm.model" --seq-len 64 --max-tokens 60000 \
  --samples-per-shard 256 --out "$WORK/data/small" > /dev/null || fail "prepare-data small"
"$BIN" prepare-data --text "$WORK/eval.jsonl" --tokenizer "$WORK/spm.model" --seq-len 64 --max-tokens 8000 \
  --out "$WORK/data/eval" > /dev/null || fail "prepare-data eval"
model() {  # model NAME D_MODEL LAYERS SEED
  "$BIN" init-model --arch decoder-lm --vocab 512 --max-len 64 --d-model "$2" --layers "$3" --heads 2 \
    --d-ff $(($2 * 2)) --dropout 0 --seed "$4" --out "$WORK/$1.pt" > /dev/null || fail "init-model $1"
}
model teacher_a 96 2 11
model teacher_b 96 2 12
model student 32 1 13
perplexity() { "$BIN" evaluate --model "$1" --data "$WORK/data/eval" | grep -o '"perplexity": [0-9.e+]*' | awk '{print $2}'; }

job() {  # job NAME MODEL DATA STEPS [extra YAML lines on stdin]
  cat > "$WORK/$1.yaml" <<YAML
name: $1
run_dir: $WORK/runs/$1
seed: 7
student: {path: $WORK/$2.pt}
data: {train: $WORK/data/$3, eval: $WORK/data/eval}
training: {batch_size: 16, max_steps: $4}
optimizer: {lr: 0.004, warmup_steps: 10}
checkpoint: {every_steps: 0}
metrics: {port: 0}
runtime: {watchdog_seconds: 60, collective_timeout_seconds: 60}
YAML
  cat >> "$WORK/$1.yaml"
  # TEACHER_RANKS=P: P more ranks serve the teachers (placement pool)
  timeout -k 5 300 mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS \
    -np $((3 + ${TEACHER_RANKS:-0})) "$BIN" train --teacher-ranks "${TEACHER_RANKS:-0}" "$WORK/$1.yaml" \
    > "$WORK/$1.log" 2>&1 || { tail -30 "$WORK/$1.log"; fail "job $1"; }
  "$BIN" export "$WORK/runs/$1/checkpoints/latest" --out "$WORK/runs/$1/model" > /dev/null || fail "export $1"
}
job teacher_a teacher_a train 800 < /dev/null
job teacher_b teacher_b train 800 < /dev/null
teachers="distill:
  teachers:
    - {name: a, path: $WORK/runs/teacher_a/model/model.pt}
    - {name: b, path: $WORK/runs/teacher_b/model/model.pt}
  divergence: reverse_kl
  task_weight: 0.5
  kd_weight: 0.5
  temperature: 1.0
  cache: {top_k: 64}
  pool: {top_k: 64}"
job alone student small 450 < /dev/null
job live student small 450 <<< "$teachers
  placement: replicate"
job cached student small 450 <<< "$teachers
  placement: cache"
grep -q "teacher pass: 8 teacher-shard pairs" "$WORK/cached.log" || { grep teacher "$WORK/cached.log"; fail "no teacher pass"; }
TEACHER_RANKS=2 job pooled student small 450 <<< "$teachers"
grep -q "placement pool" "$WORK/pooled.log" || { grep teacher "$WORK/pooled.log"; fail "no teacher ranks"; }

a=$(perplexity "$WORK/runs/teacher_a/model/model.pt"); b=$(perplexity "$WORK/runs/teacher_b/model/model.pt")
alone=$(perplexity "$WORK/runs/alone/model/model.pt")
live=$(perplexity "$WORK/runs/live/model/model.pt")
cached=$(perplexity "$WORK/runs/cached/model/model.pt")
pooled=$(perplexity "$WORK/runs/pooled/model/model.pt")
echo "held-out perplexity: teachers $a and $b; student alone $alone, with live teachers $live, from the cache $cached," \
  "from the teacher ranks $pooled"
awk -v l="$live" -v c="$cached" -v p="$pooled" -v s="$alone" 'BEGIN { exit !(l < s && c < s && p < s) }' ||
  fail "distillation did not beat the student alone ($alone): live $live, cached $cached, pooled $pooled"
for run in "cached $cached" "pooled $pooled"; do
  set -- $run
  awk -v l="$live" -v c="$2" 'BEGIN { r = c / l; exit !(r > 0.95 && r < 1.05) }' ||
    fail "the $1 run ($2) is not within 5% of the live one ($live)"
done
echo "PASS lm_two_teachers"
