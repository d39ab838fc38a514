# Shared set-up of the monitoring tests (sourced, not a test): a running tiny
# job, a real Prometheus server on a free loopback port scraping it through
# file-based service discovery, and a trap that stops both by PID.
source "$(dirname "${BASH_SOURCE[0]}")/../mpi/lib.sh"
for tool in prometheus promtool curl; do
  command -v "$tool" >/dev/null || fail "$tool missing: run launch/setup.sh"
done

PROM="$WORK/prom"
mkdir -p "$PROM/targets"
prom_pid=""
job=""
port=""

# Stops what the test started: Prometheus by its PID, the job through mpirun.
stop_all() {
  if [ -n "$prom_pid" ]; then
    kill -TERM "$prom_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$prom_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$prom_pid" 2>/dev/null || true
    wait "$prom_pid" 2>/dev/null || true
    prom_pid=""
  fi
  pkill -TERM -f "mpirun.*$WORK" 2>/dev/null || true
  if [ -n "$job" ]; then
    wait "$job" 2>/dev/null || true
    job=""
  fi
}
on_exit() {
  local rc=$?
  stop_all
  cleanup  # mpi/lib.sh: kills anything left that mentions $WORK, removes $WORK
  exit "$rc"
}
trap on_exit EXIT

show_logs() {
  echo "--- job log" >&2; tail -n 30 "$WORK/log" >&2 || true
  echo "--- prometheus log" >&2; tail -n 30 "$PROM/log" >&2 || true
}

# start_job [--set a.b=c]...: a 2-worker job that runs until stopped (run_job's
# timeout: 300 s); sets $job and $endpoint (the coordinator's host:port) and
# writes the file-SD target for it. RUN_DIR (default $WORK/run) is its run_dir;
# TEACHER_RANKS=P adds P teacher ranks (placement pool).
start_job() {
  make_tiny_task
  local run="${RUN_DIR:-$WORK/run}"
  write_config "$WORK/job.yaml" "$run" </dev/null
  if [ "${TEACHER_RANKS:-0}" -gt 0 ]; then  # placement pool: 2 workers + TEACHER_RANKS teacher ranks
    timeout -k 5 300 mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS \
      -np $((3 + TEACHER_RANKS)) "$BIN" train --teacher-ranks "$TEACHER_RANKS" "$WORK/job.yaml" \
      --set training.max_steps=100000 "$@" > "$WORK/log" 2>&1 &
  else
    run_job 2 "$WORK/job.yaml" --set training.max_steps=100000 "$@" > "$WORK/log" 2>&1 &
  fi
  job=$!
  for _ in $(seq 1 600); do
    [ -s "$run/metrics_endpoint" ] && break
    kill -0 "$job" 2>/dev/null || { show_logs; fail "the job ended before serving metrics"; }
    sleep 0.1
  done
  [ -s "$run/metrics_endpoint" ] || { show_logs; fail "the job wrote no metrics_endpoint in 60 s"; }
  endpoint="$(cat "$run/metrics_endpoint")"
  printf '[{"targets": ["%s"], "labels": {"run": "%s"}}]\n' "$endpoint" "$(basename "$0" .sh)" \
    > "$PROM/targets/job.json"
}

# start_prometheus [RULE_FILE]...: writes $PROM/prometheus.yml (1 s scrapes of
# the file-SD target start_job wrote, the given rule files), runs it on a free
# loopback port (retried if another process takes it first), sets $prom_pid and
# $port, and waits for the first sample of distill_step (targets reach the
# scraper every ~5 s).
start_prometheus() {
  {
    printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n'
    if [ $# -gt 0 ]; then
      printf 'rule_files:\n'
      printf '  - %s\n' "$@"
    fi
    printf 'scrape_configs:\n  - job_name: distill\n    file_sd_configs:\n'
    printf '      - files: ["%s/targets/*.json"]\n        refresh_interval: 1s\n' "$PROM"
  } > "$PROM/prometheus.yml"
  promtool check config "$PROM/prometheus.yml" >/dev/null || fail "promtool rejected the test's prometheus.yml"
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
  for _ in $(seq 1 40); do
    if curl -s --max-time 5 "http://127.0.0.1:$port/api/v1/query" --data-urlencode 'query=distill_step' |
        grep -q '"job_name"'; then
      echo "scraped $endpoint"
      return 0
    fi
    sleep 0.5
  done
  show_logs
  fail "no distill_step sample scraped from $endpoint within 20 s"
}

# Stops everything and checks that nothing is left.
stop_and_check() {
  local old_prom_pid="$prom_pid" old_job="$job"
  stop_all
  [ -z "$old_prom_pid" ] || ! kill -0 "$old_prom_pid" 2>/dev/null || fail "prometheus (PID $old_prom_pid) still running"
  [ -z "$old_job" ] || ! kill -0 "$old_job" 2>/dev/null || fail "the job (PID $old_job) still running"
  no_process_left
}
