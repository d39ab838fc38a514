#!/usr/bin/env bash
# CAP's snapshot teachers on the demo task: the demo student pruned to 90%
# (magnitude and movement), distilled from the demo's three teachers with and
# without distill.snapshot_teachers: 3. With its own snapshots as extra
# teachers the student must end more accurate on the clean eval set.
source "$(dirname "$0")/lib.sh"
demo_models
e2e_workdir cap-snapshots

status=0
for criterion in magnitude movement; do
  train "$criterion" configs/demo.yaml --set sparsity.criterion="$criterion" --set sparsity.final_sparsity=0.9
  train "$criterion-cap" configs/demo.yaml --set sparsity.criterion="$criterion" --set sparsity.final_sparsity=0.9 \
    --set distill.snapshot_teachers=3
  without=$(accuracy "$OUT/$criterion/model/model.pt" --data data/demo/eval)
  with=$(accuracy "$OUT/$criterion-cap/model/model.pt" --data data/demo/eval)
  printf '%-9s 90%%: accuracy %.4f without snapshot teachers, %.4f with 3\n' "$criterion" "$without" "$with"
  /usr/bin/python3 -c "import sys; sys.exit(0 if $with > $without else 1)" \
    || { echo "FAIL: $criterion: snapshot teachers did not help ($with <= $without)"; status=1; }
done
[ "$status" -eq 0 ] && echo "PASS cap_snapshots (e2e)"
exit "$status"
