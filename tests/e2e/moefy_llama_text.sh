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
source "$(dirname "$0")/lib.sh"                # man_lm_data, job, moefy_and_recover
man_lm_data
"$PY" "$SRC/tests/e2e/make_tiny_llama.py" "$WORK/llama-hf" --vocab 512 --hidden 96 --intermediate 256 --layers 2 \
  --heads 2 --kv-heads 1 --seed 4
"$BIN" import-hf "$WORK/llama-hf" --out "$WORK/llama.pt" > /dev/null || fail "import-hf"
job dense "$WORK/llama.pt" 800 0.004 < /dev/null
moefy_and_recover "$WORK/runs/dense/model/model.pt" Llama
echo "PASS moefy_llama_text"
