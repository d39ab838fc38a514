#!/usr/bin/env bash
# The demo end to end: the distilled student reaches its target sparsity (within
# 0.5 points) and is at least as accurate as the student trained without teachers.
set -euo pipefail
SRC="${DISTILL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$SRC"
launch/demo.sh
/usr/bin/python3 - <<'PY'
import json, sys
s = json.load(open("runs/demo/summary.json"))
print(s)
ok = True
if abs(s["student_sparsity"] - 0.8) > 0.005:
    print(f"FAIL: student sparsity {s['student_sparsity']:.4f}, target 0.80"); ok = False
if s["student_accuracy"] < s["baseline_accuracy"]:
    print(f"FAIL: distilled student {s['student_accuracy']:.4f} < no-teacher student {s['baseline_accuracy']:.4f}"); ok = False
for k, t in enumerate(s["teacher_accuracy"]):
    if t < 0.5:
        print(f"FAIL: teacher {k} accuracy {t:.4f}: teachers did not learn the task"); ok = False
sys.exit(0 if ok else 1)
PY
echo "PASS demo"
