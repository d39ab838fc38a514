#!/usr/bin/env bash
# A language model with uneven padding: 2 workers with batch b end with the
# same weights as 1 worker with batch 2b. Each sequence has its own length, so
# the workers hold different numbers of labelled tokens; the token-level
# losses divide by the labelled tokens of the whole step (a count all-reduced
# over the workers), not each worker's own. Reverse KL, chunks of 16 tokens.
source "$(dirname "$0")/lib.sh"
"$PY" - "$WORK/train.jsonl" <<'PY'
import json, random, sys
rng = random.Random(7)
with open(sys.argv[1], "w") as f:
    for _ in range(128):
        n = rng.randint(3, 24)  # 3..24 real tokens of 24: the padding differs per sample
        ids = [rng.randrange(1, 64) for _ in range(n)]
        f.write(json.dumps({"input_ids": ids, "labels": ids[1:] + [-100]}) + "\n")
PY
"$BIN" prepare-data --jsonl "$WORK/train.jsonl" --seq-len 24 --out "$WORK/data/train" >/dev/null || fail "prepare-data"
for who in student:3 teacher:4; do
  "$BIN" init-model --arch decoder-lm --vocab 64 --max-len 24 --d-model 32 --layers 1 --heads 2 --d-ff 64 \
    --dropout 0.0 --seed "${who#*:}" --out "$WORK/${who%:*}.pt" >/dev/null || fail "init-model"
done
cat > "$WORK/job.yaml" <<YAML
name: lm-equivalence
run_dir: $WORK/run
seed: 5
student: {path: $WORK/student.pt}
data: {train: $WORK/data/train}
training: {batch_size: 4, max_steps: 6}
optimizer: {lr: 0.003, warmup_steps: 2, weight_decay: 0.01}
distill:
  teachers:
    - {name: t0, path: $WORK/teacher.pt}
  divergence: reverse_kl
  chunk_tokens: 16
checkpoint: {every_steps: 0, keep: 2}
metrics: {port: 0}
runtime: {watchdog_seconds: 20, collective_timeout_seconds: 30}
YAML
run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/two" > "$WORK/two.log" 2>&1 || { cat "$WORK/two.log"; fail "2-worker run"; }
run_job 1 "$WORK/job.yaml" --set run_dir="$WORK/one" --set training.batch_size=8 > "$WORK/one.log" 2>&1 \
  || { cat "$WORK/one.log"; fail "1-worker run"; }
two="$WORK/two/checkpoints/latest"
one="$WORK/one/checkpoints/latest"
grep -q '"step": 6' "$two/state.json" || fail "2-worker run did not reach step 6"
compare "$two/model.safetensors" "$one/model.safetensors" --atol 2e-5 || fail "weights differ"
# The runs trained: the weights moved away from the initial student.
"$BIN" export "$two" --out "$WORK/exported" >/dev/null || fail "export"
echo "PASS equivalence_lm"
