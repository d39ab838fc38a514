#!/usr/bin/env bash
# Every panel query of the Grafana dashboard (monitoring/grafana/distill-dashboard.json)
# returns data for a real job: a 2-worker job runs (then, for the teacher-rank
# panels, one with a teacher rank), a real Prometheus server
# scrapes it every second, and each panel's `expr`, with $job set to the job's
# name and $__rate_interval / $__interval to 5s, is evaluated through the HTTP
# API (tests/monitoring/grafana/dashboard_queries.py). Fails if a query errs,
# returns no series, or reads a distill_ series without job_name="$job".
source "$(dirname "$0")/lib.sh"
DASHBOARD="$SRC/monitoring/grafana/distill-dashboard.json"

# A job that runs until stopped (run_job's timeout: 300 s) and commits a
# checkpoint now and then, so the checkpoint-age panels have data; with an
# intermediate term, so the per-teacher term panel has data too, and with
# sparsity levels evaluated every 20 steps, so the per-level panel has data.
start_job --set checkpoint.every_steps=200 --set "distill.terms=[{kind: cka}]" --set training.eval_every=20 \
  --set "sparsity.levels=[0.5, 0.7]" --set sparsity.final_sparsity=0.7
job_name="$(sed -n 's/^name: *//p' "$WORK/job.yaml")"
start_prometheus

# Each query gets up to 40 s for data that needs a few scrapes (rates) or a checkpoint.
"$PY" "$SRC/tests/monitoring/grafana/dashboard_queries.py" "$DASHBOARD" "http://127.0.0.1:$port" \
  "$job_name" --interval 5s --wait 40 || { show_logs; fail "dashboard queries failed (above)"; }

stop_and_check

# The teacher-rank panels, against a job with a teacher rank (placement pool).
rm -rf "$PROM/data"
RUN_DIR="$WORK/run-pool" TEACHER_RANKS=1 start_job --set distill.combiner=mean
start_prometheus
"$PY" "$SRC/tests/monitoring/grafana/dashboard_queries.py" "$DASHBOARD" "http://127.0.0.1:$port" \
  "$job_name" --interval 5s --wait 40 --placement pool || { show_logs; fail "teacher-rank panel queries failed (above)"; }
stop_and_check
echo "PASS grafana_queries"
