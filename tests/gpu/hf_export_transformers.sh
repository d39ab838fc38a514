#!/usr/bin/env bash
# `distill export --format hf` writes what transformers loads: every family's
# fixture imported with import-hf, exported back from the model file, then
# opened by the real transformers (the class config.json names) and run on the
# fixture's inputs: the logits transformers computed on the original
# checkpoint, within 1e-4 (load_with_transformers.py). Needs a Python with
# transformers (the GPU machine has one); the GPU itself is not used.
source "$(dirname "$0")/lib.sh"
"$PY" -c "import transformers" 2>/dev/null || fail "$PY has no transformers"
for name in bert bert_model gpt2 llama llama3_rope llama_linear_rope qwen2 mistral; do
  fixture="$SRC/tests/fixtures/hf/$name"
  "$BIN" import-hf "$fixture" --out "$WORK/$name.pt" > "$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log"; fail "import-hf $name"; }
  "$BIN" export "$WORK/$name.pt" --format hf --out "$WORK/$name-hf" >> "$WORK/$name.log" 2>&1 ||
    { cat "$WORK/$name.log"; fail "export --format hf $name"; }
  "$PY" "$SRC/tests/gpu/load_with_transformers.py" "$WORK/$name-hf" "$fixture" || fail "transformers on the $name export"
done
echo "PASS hf_export_transformers"
