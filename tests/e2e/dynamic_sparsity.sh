#!/usr/bin/env bash
# Dynamic Sparsification's target: one demo job with sparsity.levels
# [0.5, 0.7, 0.9] against three jobs trained separately at each sparsity, the
# same config otherwise, at equal total compute: the levels job runs the three
# separate jobs' epochs together (3 x 6), one level per step, so each level
# gets as many steps of its own as a separate job. Each level is exported
# (--level) and evaluated on the clean eval set; each must be within 1
# accuracy point of the separate model of its sparsity (or better).
# LEVEL_EPOCHS / SEPARATE_EPOCHS / LEVEL_ARGS change the budgets and the
# levels job's settings, for the measurements of docs/benchmarks.md.
source "$(dirname "$0")/lib.sh"
demo_models
e2e_workdir dynamic-sparsity

train levels configs/demo.yaml --set "sparsity.levels=[0.5, 0.7, 0.9]" --set sparsity.final_sparsity=0.9 \
  --set training.epochs="${LEVEL_EPOCHS:-18}" ${LEVEL_ARGS:-}
status=0
for level in 0.5 0.7 0.9; do
  train "separate-$level" configs/demo.yaml --set sparsity.final_sparsity="$level" \
    --set training.epochs="${SEPARATE_EPOCHS:-6}"
  "$BIN" export "$OUT/levels/checkpoints/latest" --out "$OUT/levels/model-$level" --level "$level" >/dev/null
  separate=$(accuracy "$OUT/separate-$level/model/model.pt" --data data/demo/eval)
  nested=$(accuracy "$OUT/levels/model-$level/model.pt" --data data/demo/eval)
  sparsity=$(sed -nE 's/.*"masked_sparsity": ([0-9.e-]+).*/\1/p' "$OUT/levels/model-$level/sparsity_report.json")
  printf 'level %s  sparsity %.4f  accuracy %.4f  separately trained %.4f  difference %+.4f\n' \
    "$level" "$sparsity" "$nested" "$separate" "$(/usr/bin/python3 -c "print($nested - $separate)")"
  /usr/bin/python3 -c "import sys; sys.exit(0 if abs($sparsity - $level) <= 0.005 else 1)" \
    || { echo "FAIL: level $level exported at sparsity $sparsity"; status=1; }
  /usr/bin/python3 -c "import sys; sys.exit(0 if $nested >= $separate - 0.01 else 1)" \
    || { echo "FAIL: level $level accuracy $nested, more than 1 point below the separate model's $separate"; status=1; }
done
[ "$status" -eq 0 ] && echo "PASS dynamic_sparsity (e2e)"
exit "$status"
