#!/usr/bin/env bash
# A real Prometheus server scrapes a running job through file-based service
# discovery, and every alert expression of monitoring/prometheus/distill-alerts.yml
# evaluates without error against the scraped series; the rules also load and
# evaluate inside the server, and none fires for the healthy job.
source "$(dirname "$0")/lib.sh"
RULES="$SRC/monitoring/prometheus/distill-alerts.yml"
mkdir -p "$PROM/exprs"

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

start_job
start_prometheus "$RULES"  # the server evaluates the alert rules too

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

stop_and_check
echo "PASS prometheus_scrape"
