#!/usr/bin/env bash
# distill.placement: cache end to end, 2 workers: the teacher pass writes the
# teacher's top-k per dataset shard; with k = V training from the cache ends
# where live teachers do (up to the cache's float16); a second job reuses the
# cache and trains identically; a pass killed mid-way (a shard and cache.json
# gone) is completed by `distill cache-teachers`, recomputing only that shard,
# byte for byte; a cache.json of another teacher file is refused by name;
# `distill validate --print` shows the plan.
source "$(dirname "$0")/lib.sh"
make_tiny_lm_data "$WORK/data/train"
tiny_decoder "$WORK/student.pt" 3 32 1
tiny_decoder "$WORK/teacher.pt" 4 64 2
cat > "$WORK/job.yaml" <<YAML
name: cache
seed: 5
student: {path: $WORK/student.pt}
data: {train: $WORK/data/train}
training: {batch_size: 8, max_steps: 12}
optimizer: {lr: 0.003}
distill:
  teachers:
    - {name: t0, path: $WORK/teacher.pt}
  divergence: reverse_kl
  cache: {top_k: 96}
checkpoint: {every_steps: 0}
metrics: {port: 0}
runtime: {watchdog_seconds: 30, collective_timeout_seconds: 30}
YAML
cache="$WORK/data/train/teacher-cache"
run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/live" --set distill.placement=replicate > "$WORK/live.log" 2>&1 ||
  { cat "$WORK/live.log"; fail "live job"; }
grep -q "placement replicate (distill.placement: replicate)" "$WORK/live.log" || { cat "$WORK/live.log"; fail "no replicate plan"; }
[ ! -d "$cache" ] || fail "a replicate job wrote a cache"

run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/cached" --set distill.placement=cache > "$WORK/cached.log" 2>&1 ||
  { cat "$WORK/cached.log"; fail "cache job"; }
grep -q "teacher pass: 4 teacher-shard pairs over 2 workers" "$WORK/cached.log" || { cat "$WORK/cached.log"; fail "no pass"; }
dir=$(ls -d "$cache"/t0-*)
[ -f "$dir/cache.json" ] && [ "$(ls "$dir"/shard-*.safetensors | wc -l)" -eq 4 ] || fail "cache incomplete: $(ls "$dir")"
compare "$WORK/live/checkpoints/latest/model.safetensors" "$WORK/cached/checkpoints/latest/model.safetensors" \
  --atol 2e-3 || fail "training from a k = V cache differs from live teachers"

run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/again" > "$WORK/again.log" 2>&1 || { cat "$WORK/again.log"; fail "reuse job"; }
grep -q "reusing the cache in $dir" "$WORK/again.log" || { cat "$WORK/again.log"; fail "cache not reused"; }
grep -q "teacher pass:" "$WORK/again.log" && fail "the cache was computed again"
compare "$WORK/cached/checkpoints/latest/model.safetensors" "$WORK/again/checkpoints/latest/model.safetensors" \
  --exact || fail "the same cache trained differently"

"$BIN" validate "$WORK/job.yaml" --print 2> /dev/null > "$WORK/plan.txt" || fail "validate --print"
grep -q "^# teacher placement: cache (every teacher's cache is complete" "$WORK/plan.txt" ||
  { tail -3 "$WORK/plan.txt"; fail "validate --print does not show the plan"; }
"$BIN" validate "$WORK/job.yaml" --print --set distill.cache.top_k=8 2> /dev/null | grep -q \
  "^# teacher placement: replicate (one epoch" || fail "validate --print: no replicate plan for a missing cache"

cp "$dir/shard-00002.safetensors" "$WORK/shard2.before"
rm "$dir/shard-00002.safetensors" "$dir/cache.json"
timeout -k 5 120 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 3 "$BIN" cache-teachers "$WORK/job.yaml" \
  --set run_dir="$WORK/pass" > "$WORK/pass.log" 2>&1 || { cat "$WORK/pass.log"; fail "cache-teachers"; }
grep -q "is partial (3 of 4 shards" "$WORK/pass.log" || { cat "$WORK/pass.log"; fail "partial cache not named"; }
grep -q "teacher pass: 1 teacher-shard pairs" "$WORK/pass.log" || { cat "$WORK/pass.log"; fail "recomputed more than the gap"; }
cmp -s "$dir/shard-00002.safetensors" "$WORK/shard2.before" || fail "the recomputed shard differs"
[ -f "$dir/cache.json" ] || fail "cache-teachers left no cache.json"

sed -i 's/"teacher_sha256": "[0-9a-f]*"/"teacher_sha256": "0000"/' "$dir/cache.json"
run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/stale" > "$WORK/stale.log" 2>&1 && fail "a stale cache was used"
grep -q "cache.json: a stale teacher cache" "$WORK/stale.log" || { cat "$WORK/stale.log"; fail "stale cache not named"; }
echo "PASS teacher_cache"
