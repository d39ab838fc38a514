#!/usr/bin/env bash
# Every panel query of the Grafana dashboard (monitoring/grafana/distill-dashboard.json)
# returns data for a real job: a 2-worker job runs, a real Prometheus server
# scrapes it every second, and each panel's `expr`, with $job set to the job's
# name and $__rate_interval / $__interval to 5s, is evaluated through the HTTP
# API (tests/monitoring/grafana/dashboard_queries.py). Fails if a query errs,
# returns no series, or reads a distill_ series without job_name="$job".
source "$(dirname "$0")/../mpi/lib.sh"
DASHBOARD="$SRC/monitoring/grafana/distill-dashboard.json"
for tool in prometheus curl; do
  command -v "$tool" >/dev/null || fail "$tool missing: run launch/setup.sh"
done

PROM="$WORK/prom"
mkdir -p "$PROM/targets"
prom_pid=""
job=""

# Stops what this test started, by PID: Prometheus, then the job (TERM to
# run_job's `timeout`, which passes it to mpirun, which ends every rank).
stop_all() {
  if [ -n "$prom_pid" ]; then
    kill -TERM "$prom_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$prom_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$prom_pid" 2>/dev/null || true
    wait "$prom_pid" 2>/dev/null || true
    prom_pid=""
  fi
  if [ -n "$job" ]; then
    local child
    for child in $(pgrep -P "$job" || true); do kill -TERM "$child" 2>/dev/null || true; done
    wait "$job" 2>/dev/null || true
    job=""
  fi
}
on_exit() {
  local rc=$?
  stop_all
  cleanup  # lib.sh: kills anything left that mentions $WORK, removes $WORK
  exit "$rc"
}
trap on_exit EXIT

show_logs() {
  echo "--- job log" >&2; tail -n 30 "$WORK/log" >&2 || true
  echo "--- prometheus log" >&2; tail -n 30 "$PROM/log" >&2 || true
}

# A job that runs until stopped (run_job's timeout: 300 s) and commits a
# checkpoint now and then, so the checkpoint-age panels have data.
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
run_job 2 "$WORK/job.yaml" --set training.max_steps=100000 --set checkpoint.every_steps=200 \
  > "$WORK/log" 2>&1 &
job=$!
for _ in $(seq 1 600); do
  [ -s "$WORK/run/metrics_endpoint" ] && break
  kill -0 "$job" 2>/dev/null || { show_logs; fail "the job ended before serving metrics"; }
  sleep 0.1
done
[ -s "$WORK/run/metrics_endpoint" ] || { show_logs; fail "the job wrote no metrics_endpoint in 60 s"; }
endpoint="$(cat "$WORK/run/metrics_endpoint")"
job_name="$(sed -n 's/^name: *//p' "$WORK/job.yaml")"

printf '[{"targets": ["%s"]}]\n' "$endpoint" > "$PROM/targets/job.json"
cat > "$PROM/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: distill
    file_sd_configs:
      - files: ["$PROM/targets/*.json"]
        refresh_interval: 1s
YAML

# Prometheus on a free loopback port (retried if another process takes it first).
for attempt in 1 2 3; do
  port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  setsid prometheus --config.file="$PROM/prometheus.yml" --storage.tsdb.path="$PROM/data" \
    --web.listen-address="127.0.0.1:$port" > "$PROM/log" 2>&1 &
  prom_pid=$!
  for _ in $(seq 1 100); do
    curl -sf --max-time 2 "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
    kill -0 "$prom_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$prom_pid" 2>/dev/null && break
  wait "$prom_pid" 2>/dev/null || true
  prom_pid=""
  echo "prometheus did not start on port $port (attempt $attempt)" >&2
done
[ -n "$prom_pid" ] || { show_logs; fail "prometheus did not start"; }
[ "$(cat "/proc/$prom_pid/comm" 2>/dev/null)" = prometheus ] || fail "PID $prom_pid is not prometheus"

# The first scrape lands 5-6 s after start; then each query gets up to 40 s
# more for data that needs a few scrapes (rates) or a checkpoint.
scraped=""
for _ in $(seq 1 40); do
  if curl -s --max-time 5 "http://127.0.0.1:$port/api/v1/query" --data-urlencode 'query=distill_step' |
      grep -q '"job_name"'; then scraped=1; break; fi
  sleep 0.5
done
[ -n "$scraped" ] || { show_logs; fail "no distill_step sample scraped from $endpoint within 20 s"; }
echo "scraped $endpoint (job $job_name)"

"$PY" "$SRC/tests/monitoring/grafana/dashboard_queries.py" "$DASHBOARD" "http://127.0.0.1:$port" \
  "$job_name" --interval 5s --wait 40 || { show_logs; fail "dashboard queries failed (above)"; }

# Stop everything we started and check that nothing is left.
old_prom_pid="$prom_pid"
old_job="$job"
stop_all
! kill -0 "$old_prom_pid" 2>/dev/null || fail "prometheus (PID $old_prom_pid) still running"
! kill -0 "$old_job" 2>/dev/null || fail "the job (PID $old_job) still running"
no_process_left
echo "PASS grafana_queries"
