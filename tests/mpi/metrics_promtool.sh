#!/usr/bin/env bash
# The /metrics endpoint of a running job is valid Prometheus exposition
# (promtool check metrics) and carries the job's loss, teachers and sparsity.
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool missing: run launch/setup.sh"
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
run_job 2 "$WORK/job.yaml" --set training.max_steps=100000 > "$WORK/log" 2>&1 &
job=$!
endpoint=""
for _ in $(seq 1 120); do
  if [ -s "$WORK/run/metrics_endpoint" ] && grep -q '^distill_step{' <(curl -sf "http://$(cat "$WORK/run/metrics_endpoint")/metrics" 2>/dev/null); then
    endpoint="$(cat "$WORK/run/metrics_endpoint")"
    # Wait for a few reports so every metric has samples.
    sleep 3
    break
  fi
  sleep 0.5
done
[ -n "$endpoint" ] || { cat "$WORK/log"; fail "no metrics endpoint came up"; }
curl -sf "http://$endpoint/metrics" > "$WORK/metrics.txt"
pkill -TERM -f "mpirun.*$WORK" 2>/dev/null || true
wait $job || true
promtool check metrics < "$WORK/metrics.txt" || { cat "$WORK/metrics.txt"; fail "promtool rejected the exposition"; }
for name in distill_loss distill_teacher_kl distill_teacher_weight distill_samples_total \
            distill_sparsity_actual_ratio distill_sparsity_target_ratio distill_worker_samples_per_second; do
  grep -q "^$name" "$WORK/metrics.txt" || fail "metric $name missing"
done
grep -q 'teacher="t0"' "$WORK/metrics.txt" || fail "no per-teacher label"
no_process_left
echo "PASS metrics_promtool"
