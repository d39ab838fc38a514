#!/usr/bin/env bash
# A Hugging Face student end to end: a Llama checkpoint and a Llama teacher
# imported with import-hf, distilled and pruned by 2 workers, exported back
# with --format hf; importing that export again gives a model that evaluates
# exactly like the TorchScript export of the same checkpoint.
source "$(dirname "$0")/lib.sh"
FIX="$SRC/tests/fixtures/hf"
"$BIN" import-hf "$FIX/llama" --out "$WORK/student.pt" > "$WORK/import.log" || fail "import-hf student"
"$BIN" import-hf "$FIX/llama3_rope" --out "$WORK/teacher.pt" --dtype bf16 >> "$WORK/import.log" || fail "import-hf teacher"
grep -q "LlamaForCausalLM, 74432 parameters, bf16" "$WORK/import.log" || { cat "$WORK/import.log"; fail "import summary"; }
"$BIN" prepare-data --synthetic language-modeling --vocab 96 --length 12 --num-samples 256 --out "$WORK/data/train" >/dev/null
"$BIN" prepare-data --synthetic language-modeling --vocab 96 --length 12 --num-samples 64 --seed 2 \
  --out "$WORK/data/eval" >/dev/null
cat > "$WORK/job.yaml" <<YAML
name: hf-student
run_dir: $WORK/run
seed: 5
student: {path: $WORK/student.pt}
data: {train: $WORK/data/train, eval: $WORK/data/eval}
training: {batch_size: 8, max_steps: 6}
optimizer: {lr: 0.001}
distill:
  teachers:
    - {name: llama, path: $WORK/teacher.pt}
sparsity: {enabled: true, final_sparsity: 0.5, warmup_steps: 1, cooldown_steps: 1, interval: 2}
checkpoint: {every_steps: 0}
metrics: {port: 0}
runtime: {watchdog_seconds: 60, collective_timeout_seconds: 60}
YAML
run_job 2 "$WORK/job.yaml" > "$WORK/job.log" 2>&1 || { cat "$WORK/job.log"; fail "the job"; }
ckpt="$WORK/run/checkpoints/latest"
"$BIN" export "$ckpt" --format hf --out "$WORK/hf" > "$WORK/export.log" || { cat "$WORK/export.log"; fail "export hf"; }
"$BIN" export "$ckpt" --out "$WORK/ts" >> "$WORK/export.log" || fail "export torchscript"
grep -q '"torch_dtype": "float32"' "$WORK/hf/config.json" || fail "config.json has no torch_dtype"
"$BIN" import-hf "$WORK/hf" --out "$WORK/again.pt" >/dev/null || fail "import-hf of the export"
score() { "$BIN" evaluate --model "$1" --data "$WORK/data/eval" | grep -o '"accuracy".*'; }
a="$(score "$WORK/again.pt")"
b="$(score "$WORK/ts/model.pt")"
[ -n "$a" ] && [ "$a" = "$b" ] || fail "re-imported export evaluates differently: $a vs $b"
echo "PASS hf_student ($a)"
