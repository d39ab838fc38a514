#!/usr/bin/env bash
# Dynamic Sparsification (sparsity.levels): one 2-worker job trains three
# nested levels. The eval reports every level; `export --level` writes each at
# its sparsity, the zeros of each level containing the previous level's; a
# level the job did not train is refused naming the job's levels; a run that
# dies after a checkpoint resumes bitwise equal, level masks included, and a
# resume with other levels is refused.
source "$(dirname "$0")/lib.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
common=(--set training.max_steps=24 --set checkpoint.every_steps=12 --set training.eval_every=12
  --set 'sparsity.levels=[0.3, 0.6, 0.8]' --set sparsity.final_sparsity=0.8 --set sparsity.interval=4)

run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/straight" "${common[@]}" > "$WORK/straight.log" 2>&1 \
  || { cat "$WORK/straight.log"; fail "uninterrupted run"; }
for level in 0.3 0.6 0.8; do
  grep -q "  level $level: accuracy " "$WORK/straight.log" || { cat "$WORK/straight.log"; fail "no eval of level $level"; }
done
"$PY" - "$WORK/straight/eval.json" <<'PY' || fail "eval.json"
import json, sys
e = json.load(open(sys.argv[1]))
levels = e["levels"]
assert [l["sparsity"] for l in levels] == [0.3, 0.6, 0.8], levels
assert levels[0]["accuracy"] == e["accuracy"] and levels[0]["loss"] == e["loss"], e  # level 0 is the job's eval
assert all(0 <= l["accuracy"] <= 1 and l["loss"] > 0 for l in levels), levels
assert len({l["loss"] for l in levels}) == 3, ("each level computes with its own weights", levels)
PY

ckpt="$WORK/straight/checkpoints/latest"
for level in 0.3 0.6 0.8; do
  "$BIN" export "$ckpt" --out "$WORK/export-$level" --level "$level" > "$WORK/export-$level.log" 2>&1 \
    || { cat "$WORK/export-$level.log"; fail "export --level $level"; }
done
"$BIN" export "$ckpt" --out "$WORK/export-default" > /dev/null
"$PY" - "$SRC/tests/unit" "$WORK" <<'PY' || fail "exported levels"
import json, sys
sys.path.insert(0, sys.argv[1])
from read_safetensors import read
work = sys.argv[2]
zeros = {}
for level in ("0.3", "0.6", "0.8"):
    report = json.load(open(f"{work}/export-{level}/sparsity_report.json"))
    assert report["level"] == float(level), report.get("level")
    assert abs(report["masked_sparsity"] - float(level)) < 0.01, (level, report["masked_sparsity"])
    _, tensors = read(f"{work}/export-{level}/model.safetensors")
    masked = [p["name"] for p in report["parameters"] if p["masked"]]
    assert masked, report
    zeros[level] = {n: tensors[n][2] == 0 for n in masked}
for lower, higher in (("0.3", "0.6"), ("0.6", "0.8")):
    for n, z in zeros[lower].items():
        assert (z <= zeros[higher][n]).all(), f"{n}: a weight pruned at {lower} is kept at {higher}"
_, default = read(f"{work}/export-default/model.safetensors")
_, first = read(f"{work}/export-0.3/model.safetensors")
assert all((default[n][2] == first[n][2]).all() for n in default), "the default export is not the densest level"
PY

set +e
"$BIN" export "$ckpt" --out "$WORK/export-bad" --level 0.5 > "$WORK/bad.log" 2>&1
code=$?
set -e
[ "$code" -ne 0 ] || fail "export --level 0.5 succeeded"
grep -q -- "--level 0.5: not a level of .* (its levels: 0.3, 0.6, 0.8)" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "bad level message"; }

crash_and_resume broken 12 "$WORK/job.yaml" "${common[@]}"
same_latest "$WORK/straight" "$WORK/broken" model optimizer masks sparsity_state

# Resuming with other levels would mislabel the checkpoint's level masks: refused, naming the file.
set +e
run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/broken" "${common[@]}" --set training.max_steps=30 \
  --set 'sparsity.levels=[0.3, 0.5, 0.8]' --resume > "$WORK/relevel.log" 2>&1
code=$?
set -e
[ "$code" -ne 0 ] || fail "resumed with other levels"
grep -q "trainer.json: the checkpoint was trained with sparsity levels \[0.3,0.6,0.8\], sparsity.levels is \[0.3,0.5,0.8\]" \
  "$WORK/relevel.log" || { cat "$WORK/relevel.log"; fail "other levels: message"; }
echo "PASS dynamic_sparsity"
