#!/usr/bin/env bash
# The demo student pruned three more ways, each distilled from the demo's three
# teachers: 90% with movement pruning, 90% with PST, and 2:4. Each must reach
# its target sparsity (within 0.5 points) and beat the demo's no-teacher
# baseline (80% magnitude, no teachers) on the clean eval set. PST freezes the
# weights it prunes (it is parameter-efficient sparse fine-tuning), so it
# starts from the demo student distilled densely first, not from random weights.
source "$(dirname "$0")/lib.sh"
demo_models
baseline=$(sed -nE 's/.*"baseline_accuracy": ([0-9.]+).*/\1/p' runs/demo/summary.json)

train() {  # train NAME TARGET --set ...
  local name="$1" target="$2"; shift 2
  rm -rf "runs/demo-$name"
  launch/distill-mpirun -n 2 configs/demo.yaml --set run_dir="runs/demo-$name" --set metrics.port=0 "$@" \
    > "runs/demo-$name.log" 2>&1 || { tail -30 "runs/demo-$name.log"; echo "FAIL: $name training"; exit 1; }
  "$BIN" export "runs/demo-$name/checkpoints/latest" --out "runs/demo-$name/student" >/dev/null
  local acc sparsity
  acc=$("$BIN" evaluate --model "runs/demo-$name/student/model.pt" --data data/demo/eval \
    | sed -E 's/.*"accuracy": ([0-9.]+).*/\1/')
  sparsity=$(sed -nE 's/.*"masked_sparsity": ([0-9.e-]+).*/\1/p' "runs/demo-$name/student/sparsity_report.json")
  printf '%-10s target %.2f  sparsity %.4f  accuracy %.4f  (no-teacher baseline %.4f)\n' \
    "$name" "$target" "$sparsity" "$acc" "$baseline"
  /usr/bin/python3 -c "import sys; sys.exit(0 if abs($sparsity - $target) <= 0.005 else 1)" \
    || { echo "FAIL: $name sparsity $sparsity, target $target"; exit 1; }
  /usr/bin/python3 -c "import sys; sys.exit(0 if $acc > $baseline else 1)" \
    || { echo "FAIL: $name accuracy $acc <= no-teacher baseline $baseline"; exit 1; }
}

# ONLY=movement|pst|2-4 runs one of them (for debugging).
want() { [ -z "${ONLY:-}" ] || [ "$ONLY" = "$1" ]; }

if want movement; then
  train movement 0.9 --set sparsity.criterion=movement --set sparsity.final_sparsity=0.9
fi
if want pst; then
  rm -rf runs/demo-dense
  launch/distill-mpirun -n 2 configs/demo.yaml --set run_dir=runs/demo-dense --set metrics.port=0 \
    --set sparsity.enabled=false > runs/demo-dense.log 2>&1 || { tail -30 runs/demo-dense.log; echo "FAIL: dense"; exit 1; }
  "$BIN" export runs/demo-dense/checkpoints/latest --out runs/demo-dense/student >/dev/null
  # The classifier head stays dense, as in the PST paper (it prunes the encoder's matrices).
  # PST keeps AdamW off the weights it scores, so what AdamW trains is mostly biases and
  # norms: their weight decay is the run's regularisation (docs/sparsity.md, PST).
  train pst 0.9 --set student.path=runs/demo-dense/student/model.pt --set sparsity.criterion=pst \
    --set sparsity.scope=per_layer --set sparsity.final_sparsity=0.9 --set "sparsity.exclude=[classifier]" \
    --set sparsity.pst.rank=1 --set optimizer.decay_norms_and_biases=true
fi
if want 2-4; then
  train 2-4 0.5 --set sparsity.granularity=2:4 --set sparsity.schedule=one_shot --set sparsity.final_sparsity=0.5 \
    --set sparsity.warmup_steps=100
fi
echo "PASS sparse_students"
