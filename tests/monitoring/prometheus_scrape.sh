#!/usr/bin/env bash
# A real Prometheus server scrapes a running job through file-based service
# discovery, and every alert expression of monitoring/prometheus/distill-alerts.yml
# evaluates without error against the scraped series; the rules also load and
# evaluate inside the server, and none fires for the healthy job.
source "$(dirname "$0")/../mpi/lib.sh"
RULES="$SRC/monitoring/prometheus/distill-alerts.yml"
for tool in prometheus promtool curl; do
  command -v "$tool" >/dev/null || fail "$tool missing: run launch/setup.sh"
done

PROM="$WORK/prom"
mkdir -p "$PROM/targets" "$PROM/exprs"
prom_pid=""
job=""

# Stops what this test started: Prometheus by its PID, the job through mpirun.
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
  cleanup  # lib.sh: kills anything left that mentions $WORK, removes $WORK
  exit "$rc"
}
trap on_exit EXIT

show_logs() {
  echo "--- job log" >&2; tail -n 30 "$WORK/log" >&2 || true
  echo "--- prometheus log" >&2; tail -n 30 "$PROM/log" >&2 || true
}

# query EXPR_FILE: the API's JSON answer for the PromQL in EXPR_FILE.
query_file() {
  curl -s --max-time 10 "http://127.0.0.1:$port/api/v1/query" --data-urlencode "query@$1"
}
query() {
  printf '%s' "$1" > "$PROM/q"
  query_file "$PROM/q"
}
# field JSON WHAT: status, the number of results, or the error of an answer.
field() {
  "$PY" -c '
import json, sys
try:
    a = json.loads(sys.argv[1])
except ValueError:
    print("unparsable" if sys.argv[2] != "count" else 0); sys.exit()
if sys.argv[2] == "status": print(a.get("status"))
elif sys.argv[2] == "error": print(a.get("errorType", ""), a.get("error", ""))
else: print(len(a.get("data", {}).get("result", [])))
' "$1" "$2"
}

# A job that runs long enough to be scraped (lib.sh's run_job times out at 300 s).
make_tiny_task
write_config "$WORK/job.yaml" "$WORK/run" </dev/null
run_job 2 "$WORK/job.yaml" --set training.max_steps=100000 > "$WORK/log" 2>&1 &
job=$!
for _ in $(seq 1 600); do
  [ -s "$WORK/run/metrics_endpoint" ] && break
  kill -0 "$job" 2>/dev/null || { show_logs; fail "the job ended before serving metrics"; }
  sleep 0.1
done
[ -s "$WORK/run/metrics_endpoint" ] || { show_logs; fail "the job wrote no metrics_endpoint in 60 s"; }
endpoint="$(cat "$WORK/run/metrics_endpoint")"

# File-based service discovery, as a batch script would write it.
printf '[{"targets": ["%s"], "labels": {"run": "prometheus_scrape"}}]\n' "$endpoint" \
  > "$PROM/targets/job.json"
cat > "$PROM/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: distill
    file_sd_configs:
      - files: ["$PROM/targets/*.json"]
        refresh_interval: 1s
YAML
promtool check config "$PROM/prometheus.yml" >/dev/null || fail "promtool rejected the test's prometheus.yml"

# Start Prometheus on a free loopback port (retried if another process takes it first).
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
curl -sf --max-time 2 "http://127.0.0.1:$port/-/ready" >/dev/null || { show_logs; fail "prometheus not ready"; }

# The first scrape lands 5-6 s after start (targets reach the scraper every ~5 s).
scraped=""
for _ in $(seq 1 40); do
  if [ "$(field "$(query 'distill_step')" count)" -gt 0 ]; then scraped=1; break; fi
  sleep 0.5
done
[ -n "$scraped" ] || { show_logs; fail "no distill_step sample scraped from $endpoint within 20 s"; }
echo "scraped $endpoint"

# The job's training series reach Prometheus (they exist from the first scrape).
for expr in 'distill_loss{term="total"}' 'distill_teacher_kl' 'distill_worker_samples_per_second'; do
  answer="$(query "$expr")"
  [ "$(field "$answer" status)" = success ] || fail "query $expr: $(field "$answer" error)"
  n="$(field "$answer" count)"
  [ "$n" -gt 0 ] || fail "query $expr returned no series"
  echo "ok  $expr: $n series"
done

# Every alert expression of the rules file evaluates without error. Each is
# also evaluated with its thresholds relaxed (every comparison with a number
# becomes ">= -Inf"), which must return series for this job: that shows the
# label matching of the rule works on really scraped series.
"$PY" - "$RULES" "$PROM/exprs" <<'PYTHON'
import re, sys, yaml
rules, out = sys.argv[1], sys.argv[2]
threshold = re.compile(r"(==|!=|>=|<=|>|<)\s*[-+]?(\d+(\.\d*)?(e[-+]?\d+)?|Inf|NaN)\b")
n = 0
for group in yaml.safe_load(open(rules))["groups"]:
    for rule in group["rules"]:
        n += 1
        name = rule.get("alert") or rule.get("record")
        with open(f"{out}/{n:02d}-{name}", "w") as f:
            f.write(rule["expr"])
        with open(f"{out}/{n:02d}-{name}.relaxed", "w") as f:
            f.write(threshold.sub(">= -Inf", rule["expr"]))
PYTHON
exprs=()
for file in "$PROM"/exprs/*; do
  [[ "$file" == *.relaxed ]] || exprs+=("$file")
done
[ ${#exprs[@]} -gt 0 ] || fail "no expressions found in $RULES"
for file in "${exprs[@]}"; do
  name="${file##*/}"; name="${name#*-}"
  answer="$(query_file "$file")"
  [ "$(field "$answer" status)" = success ] ||
    fail "alert $name: expression failed: $(field "$answer" error)"$'\n'"$(cat "$file")"
  # Rates are NaN until each worker's second report: allow a few scrapes.
  for _ in $(seq 1 30); do
    relaxed="$(query_file "$file.relaxed")"
    [ "$(field "$relaxed" status)" = success ] ||
      fail "alert $name: relaxed expression failed: $(field "$relaxed" error)"$'\n'"$(cat "$file.relaxed")"
    [ "$(field "$relaxed" count)" -gt 0 ] && break
    sleep 0.5
  done
  [ "$(field "$relaxed" count)" -gt 0 ] ||
    fail "alert $name: no series even without thresholds:"$'\n'"$(cat "$file.relaxed")"
  echo "ok  alert $name: evaluates ($(field "$answer" count) series; $(field "$relaxed" count) without thresholds)"
done

# The server itself loaded the same rules and evaluates them without error.
health=""
for _ in $(seq 1 20); do
  health="$(curl -s --max-time 5 "http://127.0.0.1:$port/api/v1/rules" | "$PY" -c '
import json, sys
rules = [r for g in json.load(sys.stdin)["data"]["groups"] for r in g["rules"]]
errors = [r["name"] + ": " + r.get("lastError", "") for r in rules if r["health"] != "ok"]
print(len(rules), ",".join(sorted({r["health"] for r in rules})) or "none", *errors)
')"
  case "$health" in *unknown*) sleep 0.5 ;; *) break ;; esac
done
[ "$health" = "${#exprs[@]} ok" ] || fail "rules in the server: $health (want ${#exprs[@]} rules, all ok)"
echo "ok  the server evaluates ${#exprs[@]} rules, all healthy"

# A healthy job fires no alert.
answer="$(query 'ALERTS{alertstate="firing"}')"
[ "$(field "$answer" count)" -eq 0 ] || fail "alerts fire for a healthy job: $answer"

# Stop everything we started and check that nothing is left.
old_prom_pid="$prom_pid"
stop_all
! kill -0 "$old_prom_pid" 2>/dev/null || fail "prometheus (PID $old_prom_pid) still running"
no_process_left
echo "PASS prometheus_scrape"
