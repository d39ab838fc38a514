#!/usr/bin/env bash
# Knowledge amalgamation end to end: three teachers, each trained only on a
# disjoint third of the demo task's six classes (2 outputs each), teach one
# 6-class student. The student distilled with the `amalgamation` combiner
# must beat every teacher on all six classes (a teacher can at best get its
# own third right) and the same student distilled with the `mean` combiner of
# the same teachers on the same budget. Writes runs/amalgamation/summary.json.
source "$(dirname "$0")/lib.sh"
e2e_workdir amalgamation
# The demo's data: 3000 noisy training samples, 1000 clean eval samples.
demo_data
teachers=()
for k in 0 1 2; do
  classes="$((2 * k)),$((2 * k + 1))"
  # The same stream, keeping only this teacher's classes, relabelled 0 and 1.
  "$BIN" prepare-data --synthetic classification --out "$OUT/data/teacher$k" --num-samples 3000 --seed 11 \
    --classes "$classes" --relabel >/dev/null
  "$BIN" init-model --arch encoder-classifier --classes 2 --max-len 32 --d-model 64 --layers 2 --heads 4 --d-ff 128 \
    --dropout 0.1 --seed $((100 + k)) --out "$OUT/teacher$k-init.pt" >/dev/null
  train "teacher$k" configs/demo-teacher.yaml --set seed=$((20 + k)) --set student.path="$OUT/teacher$k-init.pt" \
    --set data.train="$OUT/data/teacher$k" --set data.eval= --set training.epochs=8
  teachers+=("{name: classes${classes/,/-}, path: $OUT/teacher$k/model/model.pt, classes: [$classes]}")
done
"$BIN" init-model --arch encoder-classifier --classes 6 --max-len 32 --d-model 32 --layers 1 --heads 2 --d-ff 64 \
  --dropout 0.1 --seed 7 --out "$OUT/student-init.pt" >/dev/null

list="[$(IFS=,; echo "${teachers[*]}")]"
student=(--set student.path="$OUT/student-init.pt" --set data.train="$OUT/data/train" --set data.eval="$OUT/data/eval"
  --set sparsity.enabled=false --set "distill.teachers=$list" --set distill.task_weight=0.3 --set distill.kd_weight=0.7)
train amalgamation configs/demo.yaml "${student[@]}" --set distill.combiner=amalgamation
train mean configs/demo.yaml "${student[@]}" --set distill.combiner=mean

t0=$(accuracy "$OUT/teacher0/model/model.pt" --classes 0,1)
t1=$(accuracy "$OUT/teacher1/model/model.pt" --classes 2,3)
t2=$(accuracy "$OUT/teacher2/model/model.pt" --classes 4,5)
own0=$(accuracy "$OUT/teacher0/model/model.pt" --data "$OUT/data/teacher0")
amalgamated=$(accuracy "$OUT/amalgamation/model/model.pt")
mean=$(accuracy "$OUT/mean/model/model.pt")
printf '%-46s %8s\n' "model (accuracy on all 6 classes, clean eval)" "accuracy"
printf '%-46s %8.4f\n' "teacher for classes 0,1" "$t0" "teacher for classes 2,3" "$t1" "teacher for classes 4,5" \
  "$t2" "student, mean combiner" "$mean" "student, amalgamation combiner" "$amalgamated"
printf '(teacher for classes 0,1 on its own training data: %.4f)\n' "$own0"
cat > "$OUT/summary.json" <<JSON
{"teacher_accuracy": [$t0, $t1, $t2], "teacher0_own_classes": $own0, "mean_accuracy": $mean,
 "amalgamation_accuracy": $amalgamated}
JSON
/usr/bin/python3 - "$OUT/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
ok = True
if s["teacher0_own_classes"] < 0.7:
    print(f"FAIL: teacher 0 reaches {s['teacher0_own_classes']:.4f} on its own two classes: it did not learn them"); ok = False
for k, t in enumerate(s["teacher_accuracy"]):
    if s["amalgamation_accuracy"] <= t:
        print(f"FAIL: amalgamated student {s['amalgamation_accuracy']:.4f} <= teacher {k} {t:.4f}"); ok = False
if s["amalgamation_accuracy"] <= s["mean_accuracy"]:
    print(f"FAIL: amalgamated student {s['amalgamation_accuracy']:.4f} <= mean-combined student {s['mean_accuracy']:.4f}")
    ok = False
sys.exit(0 if ok else 1)
PY
echo "PASS amalgamation"
