#!/usr/bin/env bash
# The demo: a synthetic classification task, three teachers trained by the same
# `train` command, a student distilled from all three at 80% sparsity, and the
# same student trained at the same sparsity without teachers, for comparison.
# Installs and builds first if needed (launch/setup.sh, about 18 minutes on a fresh
# 2-core machine, a line per stage), then a few minutes of training.
#
#   launch/demo.sh                 # writes data/demo, models/demo, runs/demo*
#   DEMO_WORKERS=2 launch/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# Under ctest (tests/e2e/demo.sh) DISTILL_BIN names the built binary: no set-up there.
[ -n "${DISTILL_BIN:-}" ] || launch/setup.sh
BIN="${DISTILL_BIN:-build/distill}"
WORKERS="${DEMO_WORKERS:-2}"
export OMP_NUM_THREADS=1
say() { printf '\n== %s\n' "$*"; }
accuracy() { "$BIN" evaluate --model "$1" --data data/demo/eval | sed -E 's/.*"accuracy": ([0-9.]+).*/\1/'; }

say "data: synthetic 6-class task (train with 10% label noise, clean eval set)"
rm -rf data/demo models/demo runs/demo runs/demo-baseline runs/demo-teacher*
"$BIN" prepare-data --synthetic classification --out data/demo/train --num-samples 3000 --seed 11 --label-noise 0.1
"$BIN" prepare-data --synthetic classification --out data/demo/eval --num-samples 1000 --seed 12 --label-noise 0

say "models: three teachers (2 layers, d=64) and a student (1 layer, d=32)"
mkdir -p models/demo
for k in 0 1 2; do
  "$BIN" init-model --arch encoder-classifier --classes 6 --max-len 32 --d-model 64 --layers 2 --heads 4 --d-ff 128 \
    --dropout 0.1 --seed $((100 + k)) --out models/demo/teacher${k}-init.pt
done
"$BIN" init-model --arch encoder-classifier --classes 6 --max-len 32 --d-model 32 --layers 1 --heads 2 --d-ff 64 \
  --dropout 0.1 --seed 7 --out models/demo/student.pt

for k in 0 1 2; do
  say "teacher $k: train (no teachers, seed $((20 + k)))"
  launch/distill-mpirun -n "$WORKERS" configs/demo-teacher.yaml --set seed=$((20 + k)) \
    --set student.path=models/demo/teacher${k}-init.pt --set run_dir=runs/demo-teacher${k}
  "$BIN" export runs/demo-teacher${k}/checkpoints/latest --out models/demo/teacher${k}
  cp models/demo/teacher${k}/model.pt models/demo/teacher${k}.pt
done

say "student without teachers, 80% sparse (the baseline)"
launch/distill-mpirun -n "$WORKERS" configs/demo-baseline.yaml
"$BIN" export runs/demo-baseline/checkpoints/latest --out runs/demo-baseline/student

say "student distilled from three teachers, 80% sparse"
launch/distill-mpirun -n "$WORKERS" configs/demo.yaml
"$BIN" export runs/demo/checkpoints/latest --out runs/demo/student

say "results on data/demo/eval"
t0=$(accuracy models/demo/teacher0.pt); t1=$(accuracy models/demo/teacher1.pt); t2=$(accuracy models/demo/teacher2.pt)
base=$(accuracy runs/demo-baseline/student/model.pt)
student=$(accuracy runs/demo/student/model.pt)
sparsity=$(sed -nE 's/.*"masked_sparsity": ([0-9.e-]+).*/\1/p' runs/demo/student/sparsity_report.json)
base_sparsity=$(sed -nE 's/.*"masked_sparsity": ([0-9.e-]+).*/\1/p' runs/demo-baseline/student/sparsity_report.json)
printf '%-44s %8s %9s\n' "model" "accuracy" "sparsity"
printf '%-44s %8.4f %9s\n' "teacher 0" "$t0" "-" "teacher 1" "$t1" "-" "teacher 2" "$t2" "-"
printf '%-44s %8.4f %9.4f\n' "student, no teachers (baseline)" "$base" "$base_sparsity"
printf '%-44s %8.4f %9.4f\n' "student, distilled from 3 teachers" "$student" "$sparsity"
cat > runs/demo/summary.json <<JSON
{"teacher_accuracy": [$t0, $t1, $t2], "baseline_accuracy": $base, "baseline_sparsity": $base_sparsity,
 "student_accuracy": $student, "student_sparsity": $sparsity}
JSON
echo "summary: runs/demo/summary.json; the student: runs/demo/student/"
