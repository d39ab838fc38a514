#!/usr/bin/env bash
# distill.placement: pool end to end: teacher ranks hold the teachers and send
# each worker the top-k of its coming batches. With k = V the pool trains as
# live replicated teachers do (one teacher on one rank; two teachers over three
# ranks, one replicated, with gradient accumulation); the plan, the metrics
# and validate --print show the ranks; a stalled teacher rank is named by the
# watchdog; bad launches and a teacher of another vocabulary are refused by name.
source "$(dirname "$0")/lib.sh"
make_tiny_lm_data "$WORK/data/train"
tiny_decoder "$WORK/student.pt" 3 32 1
tiny_decoder "$WORK/t0.pt" 4 64 2
tiny_decoder "$WORK/t1.pt" 6 48 1
tiny_decoder "$WORK/t80.pt" 7 32 1 "" 80
cat > "$WORK/job.yaml" <<YAML
name: pool
seed: 5
student: {path: $WORK/student.pt}
data: {train: $WORK/data/train}
training: {batch_size: 8, max_steps: 12}
optimizer: {lr: 0.003}
distill:
  teachers:
    - {name: t0, path: $WORK/t0.pt}
  divergence: reverse_kl
  task_weight: 0.2
  kd_weight: 0.8
  pool: {top_k: 96}
checkpoint: {every_steps: 0}
metrics: {port: 0}
runtime: {watchdog_seconds: 30, collective_timeout_seconds: 30}
YAML
# pool_job RANKS TEACHER_RANKS CONFIG [args...]: mpirun with RANKS ranks besides the coordinator.
pool_job() {
  local ranks="$1" teacher_ranks="$2"; shift 2
  timeout -k 5 300 mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS \
    -x DISTILL_FAULT_ABORT_AFTER_COMMIT -np "$((ranks + 1))" "$BIN" train --teacher-ranks "$teacher_ranks" "$@"
}
same_as_live() {  # same_as_live NAME
  compare "$WORK/$1-live/checkpoints/latest/model.safetensors" "$WORK/$1-pool/checkpoints/latest/model.safetensors" \
    --atol 1e-4 || fail "$1: training from the pool differs from live teachers"
}

# One teacher on one teacher rank, beside two workers.
run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/one-live" --set distill.placement=replicate > "$WORK/one-live.log" 2>&1 ||
  { cat "$WORK/one-live.log"; fail "live job"; }
pool_job 3 1 "$WORK/job.yaml" --set run_dir="$WORK/one-pool" > "$WORK/one-pool.log" 2>&1 ||
  { cat "$WORK/one-pool.log"; fail "pool job"; }
grep -q "teachers: placement pool (1 teacher rank(s) launched" "$WORK/one-pool.log" || { cat "$WORK/one-pool.log"; fail "no pool plan"; }
grep -q "job pool: 2 workers" "$WORK/one-pool.log" || fail "the teacher rank was counted as a worker"
grep -q "teacher rank 3: teacher 't0' loaded" "$WORK/one-pool.log" || fail "rank 3 did not load t0"
same_as_live one

# Two teachers over three teacher ranks (t0 on ranks 3 and 5, t1 on rank 4), micro-batches.
cat > "$WORK/two.yaml" <<YAML
name: pool
seed: 5
student: {path: $WORK/student.pt}
data: {train: $WORK/data/train}
training: {batch_size: 8, max_steps: 12, gradient_accumulation: 2}
optimizer: {lr: 0.003}
distill:
  teachers:
    - {name: t0, path: $WORK/t0.pt}
    - {name: t1, path: $WORK/t1.pt}
  combiner: confidence
  divergence: jsd
  task_weight: 0.2
  kd_weight: 0.8
  pool: {top_k: 96}
checkpoint: {every_steps: 0}
metrics: {port: 0}
runtime: {watchdog_seconds: 30, collective_timeout_seconds: 30}
YAML
run_job 2 "$WORK/two.yaml" --set run_dir="$WORK/two-live" --set distill.placement=replicate > "$WORK/two-live.log" 2>&1 ||
  { cat "$WORK/two-live.log"; fail "live job, two teachers"; }
pool_job 5 3 "$WORK/two.yaml" --set run_dir="$WORK/two-pool" > "$WORK/two-pool.log" 2>&1 ||
  { cat "$WORK/two-pool.log"; fail "pool job, two teachers"; }
for line in "teacher rank 3 holds teacher(s) 't0'" "teacher rank 4 holds teacher(s) 't1'" \
            "teacher rank 5 holds teacher(s) 't0'"; do
  grep -q "$line" "$WORK/two-pool.log" || { cat "$WORK/two-pool.log"; fail "plan: no '$line'"; }
done
same_as_live two

# A crash right after the checkpoint of step 6, then --resume: the teacher
# ranks start at the checkpoint's step and the job ends as an uninterrupted one.
set +e
DISTILL_FAULT_ABORT_AFTER_COMMIT=6 pool_job 3 1 "$WORK/job.yaml" --set run_dir="$WORK/resumed" \
  --set checkpoint.every_steps=6 > "$WORK/first.log" 2>&1
set -e
grep -q "simulated crash" "$WORK/first.log" || { cat "$WORK/first.log"; fail "no simulated crash after step 6"; }
pool_job 3 1 "$WORK/job.yaml" --set run_dir="$WORK/resumed" --set checkpoint.every_steps=6 --resume \
  > "$WORK/resumed.log" 2>&1 || { cat "$WORK/resumed.log"; fail "pool job, resumed"; }
grep -q "resuming from .* at step 6" "$WORK/resumed.log" || { cat "$WORK/resumed.log"; fail "did not resume at step 6"; }
compare "$WORK/one-pool/checkpoints/latest/model.safetensors" "$WORK/resumed/checkpoints/latest/model.safetensors" \
  --exact || fail "a resumed pool job differs from an uninterrupted one"

"$BIN" validate "$WORK/two.yaml" --print -n 4 --teacher-ranks 2 2>/dev/null > "$WORK/plan.txt" || fail "validate --print"
grep -q "^# teacher placement: pool (2 teacher rank(s)" "$WORK/plan.txt" && grep -q "teacher rank 3 holds teacher(s) 't0'" \
  "$WORK/plan.txt" || { tail -4 "$WORK/plan.txt"; fail "validate --print does not show the pool"; }

# Bad launches: each refused with the reason, exit code 2, before any training.
refused() {  # refused PATTERN LOG
  grep -q "$1" "$2" || { cat "$2"; fail "expected: $1"; }
}
set +e
pool_job 2 2 "$WORK/job.yaml" --set run_dir="$WORK/bad1" > "$WORK/bad1.log" 2>&1; code1=$?
"$SRC/launch/distill-mpirun" -n 2 --teacher-ranks 2 "$WORK/job.yaml" > "$WORK/bad2.log" 2>&1; code2=$?
run_job 2 "$WORK/job.yaml" --set run_dir="$WORK/bad3" --set distill.placement=pool > "$WORK/bad3.log" 2>&1; code3=$?
pool_job 3 1 "$WORK/job.yaml" --set run_dir="$WORK/bad4" --set distill.placement=replicate > "$WORK/bad4.log" 2>&1; code4=$?
pool_job 3 1 "$WORK/job.yaml" --set run_dir="$WORK/bad5" --set "distill.teachers[0].path=$WORK/t80.pt" \
  > "$WORK/bad5.log" 2>&1; code5=$?
set -e
[ "$code1" -eq 2 ] && [ "$code2" -eq 2 ] && [ "$code3" -eq 2 ] && [ "$code4" -eq 2 ] ||
  fail "bad launches exited $code1 $code2 $code3 $code4, expected 2"
refused "teacher-ranks 2 leaves no student worker" "$WORK/bad1.log"
refused "teacher-ranks 2 leaves no student worker" "$WORK/bad2.log"
refused "distill.placement: pool needs teacher ranks" "$WORK/bad3.log"
refused "teacher ranks serve placement pool only" "$WORK/bad4.log"
[ "$code5" -ne 0 ] || fail "a teacher of another vocabulary was accepted"
refused "teacher rank 3 (teacher 't0') failed at step 0 in phase setup: distill.teachers\[0\].path: teacher t0 ($WORK/t80.pt) has 80 outputs, the student and $WORK/data/train have 96" "$WORK/bad5.log"

# A long job: its metrics show the teacher rank's work; then the rank stalls
# (SIGSTOP: alive, silent) and the watchdog names it.
set +e
pool_job 3 1 "$WORK/job.yaml" --set run_dir="$WORK/stall" --set training.max_steps=100000 \
  --set runtime.watchdog_seconds=6 --set runtime.collective_timeout_seconds=120 > "$WORK/stall.log" 2>&1 &
job=$!
set -e
wait_for_training "$WORK/stall.log"
endpoint=$(cat "$WORK/stall/metrics_endpoint")
curl -s "http://$endpoint/metrics" > "$WORK/metrics.txt" || fail "no /metrics at $endpoint"
grep -Eq '^distill_teacher_rank_batches_total\{job_name="pool",rank="3"\} [1-9]' "$WORK/metrics.txt" ||
  { grep teacher_rank "$WORK/metrics.txt"; fail "no teacher rank batches in /metrics"; }
grep -Eq '^distill_teacher_rank_busy_seconds_total\{job_name="pool",rank="3"\} [0-9.e-]+$' "$WORK/metrics.txt" ||
  fail "no teacher rank busy seconds in /metrics"
victim=$(pid_of_rank 3 "$WORK/job.yaml")
kill -STOP "$victim"
set +e
wait "$job"
code=$?
set -e
kill -KILL "$victim" 2>/dev/null || true
[ "$code" -ne 0 ] || fail "the job exited 0 with a stalled teacher rank"
grep -Eq "teacher rank 3 \(teacher 't0'\) silent for [0-9.]+ s, last seen at step [0-9]+ in phase [a-z]+" "$WORK/stall.log" ||
  { tail -20 "$WORK/stall.log"; fail "the watchdog did not name the stalled teacher rank"; }
no_process_left

# kill -9 of the teacher rank: every process gone within the watchdog time, the coordinator names it dead.
set +e
pool_job 3 1 "$WORK/job.yaml" --set run_dir="$WORK/killed" --set training.max_steps=100000 \
  --set runtime.watchdog_seconds=15 --set runtime.collective_timeout_seconds=120 > "$WORK/killed.log" 2>&1 &
job=$!
set -e
wait_for_training "$WORK/killed.log"
kill_and_wait "$job" "$(pid_of_rank 3 "$WORK/job.yaml")"
[ "$CODE" -ne 0 ] || fail "the job exited 0 after its teacher rank was killed"
[ "$ELAPSED" -le 15 ] || fail "the job took ${ELAPSED}s to end after its teacher rank was killed (watchdog 15 s)"
grep -Eq "^\[coordinator\] error: teacher rank 3 \(teacher 't0'\) \(pid [0-9]+\) died \(its process is gone" "$WORK/killed.log" ||
  { tail -20 "$WORK/killed.log"; fail "the coordinator did not name the killed teacher rank"; }
no_process_left
echo "PASS teacher_pool"
