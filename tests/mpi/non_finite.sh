#!/usr/bin/env bash
# NaN never reaches a checkpoint, and a damaged checkpoint is named:
# - a teacher with one NaN weight stops the job at step 1, naming the teacher,
#   before any optimizer step; no checkpoint is committed;
# - evaluate and export refuse a model with a NaN weight, naming the tensor;
# - a committed checkpoint whose model.safetensors changed after the commit is
#   refused by `train --resume` and by `export`, naming the file (the sha256
#   that state.json records).
source "$(dirname "$0")/lib.sh"
FIX="$SRC/tests/fixtures/hf"
"$BIN" import-hf "$FIX/llama" --out "$WORK/student.pt" > /dev/null || fail "import-hf student"
"$BIN" import-hf "$FIX/llama3_rope" --out "$WORK/teacher.pt" > /dev/null || fail "import-hf teacher"
cp -r "$FIX/llama3_rope" "$WORK/nan-hf"
# poke FILE TENSOR VALUE: overwrite the first float32 of TENSOR in place.
poke() {
  "$PY" - "$@" <<'PY'
import json, struct, sys
path, name, value = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(path, "r+b") as f:
    (n,) = struct.unpack("<Q", f.read(8))
    info = json.loads(f.read(n))[name]
    assert info["dtype"] == "F32", info
    f.seek(8 + n + info["data_offsets"][0])
    f.write(struct.pack("<f", value))
PY
}
poke "$WORK/nan-hf/model.safetensors" model.layers.0.mlp.down_proj.weight nan || fail "poke"
"$BIN" import-hf "$WORK/nan-hf" --out "$WORK/nan.pt" > /dev/null || fail "import-hf of the NaN teacher"
"$BIN" prepare-data --synthetic language-modeling --vocab 96 --length 12 --num-samples 128 --out "$WORK/data" \
  >/dev/null || fail "prepare-data"
job() {  # job NAME TEACHER
  cat > "$WORK/$1.yaml" <<YAML
name: $1
run_dir: $WORK/$1
seed: 5
student: {path: $WORK/student.pt}
data: {train: $WORK/data}
training: {batch_size: 8, max_steps: 4}
optimizer: {lr: 0.001}
distill:
  teachers:
    - {name: $1-teacher, path: $2}
checkpoint: {every_steps: 2}
metrics: {port: 0}
runtime: {watchdog_seconds: 60, collective_timeout_seconds: 60}
YAML
}

# A NaN teacher: stopped at step 1, named, nothing committed.
job nan "$WORK/nan.pt"
if run_job 2 "$WORK/nan.yaml" > "$WORK/nan.log" 2>&1; then fail "a job with a NaN teacher succeeded"; fi
grep -q "step 1: teacher 'nan-teacher' returned logits with [0-9]* NaN" "$WORK/nan.log" ||
  { cat "$WORK/nan.log"; fail "the NaN teacher is not named"; }
if ls -d "$WORK"/nan/checkpoints/step-* 2>/dev/null | grep -qv staging; then fail "a checkpoint was committed"; fi

# A model with a NaN weight: not evaluated, not exported.
for cmd in "evaluate --model $WORK/nan.pt --data $WORK/data" "export $WORK/nan.pt --format hf --out $WORK/x"; do
  if "$BIN" $cmd > "$WORK/bad.log" 2>&1; then fail "$cmd accepted a NaN model"; fi
  grep -q 'tensor "layer0.down_weight" holds 1 NaN and 0 infinite values of' "$WORK/bad.log" ||
    { cat "$WORK/bad.log"; fail "$cmd: the NaN tensor is not named"; }
done

# A checkpoint changed after its commit: named by resume and export.
job good "$WORK/teacher.pt"
run_job 2 "$WORK/good.yaml" > "$WORK/good.log" 2>&1 || { cat "$WORK/good.log"; fail "the good job"; }
latest="$WORK/good/checkpoints/latest"
grep -q '"model.safetensors": "[0-9a-f]\{64\}"' "$latest/state.json" || fail "state.json records no sha256"
"$BIN" export "$latest" --out "$WORK/exported" > /dev/null || fail "export of an intact checkpoint"
poke "$latest/model.safetensors" layer0.q_weight 0.125 || fail "poke the checkpoint"
sed -i 's/max_steps: 4/max_steps: 6/' "$WORK/good.yaml"
if run_job 2 "$WORK/good.yaml" --resume > "$WORK/resume.log" 2>&1; then fail "resumed from a damaged checkpoint"; fi
grep -q "step-00000004/model.safetensors: its sha256 differs from the one" "$WORK/resume.log" ||
  { cat "$WORK/resume.log"; fail "resume does not name the damaged file"; }
if "$BIN" export "$latest" --out "$WORK/x2" > "$WORK/export.log" 2>&1; then fail "exported a damaged checkpoint"; fi
grep -q "model.safetensors: its sha256 differs" "$WORK/export.log" || { cat "$WORK/export.log"; fail "export message"; }
echo "PASS non_finite"
