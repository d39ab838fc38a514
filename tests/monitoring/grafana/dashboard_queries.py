"""Runs every PromQL query of a Grafana dashboard against a Prometheus server.

    python3 dashboard_queries.py DASHBOARD.json http://127.0.0.1:9090 JOB [--interval 5s] [--wait 30]

Each panel target's `expr` (rows' nested panels included) has the dashboard's
variables replaced as Grafana would: $job / ${job} by JOB, $__rate_interval,
$__interval and $__range by --interval. It must filter every distill_ series on
job_name="$job", and evaluate through /api/v1/query without error to at least
one series. A query that answers with no series is retried until --wait
seconds after the start (rates need two samples, some gauges the second
report). The `$job` variable's label_values() query is checked through the
label-values API. Exits 1 naming each failing panel. Python stdlib only.
"""
import argparse
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

SELECTOR = re.compile(r"\b(distill_[A-Za-z0-9_:]*)\s*(\{[^}]*\})?")
JOB_MATCHER = 'job_name="$job"'


def panels_of(dashboard):
    """Every panel, rows' nested (collapsed) panels included, rows themselves not."""
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def queries_of(dashboard, placement):
    """(name, expr) of every panel target that has a PromQL expression. Panels
    whose description says "(placement pool only)" have data only in jobs with
    teacher ranks: they are checked with --placement pool, and only they."""
    for panel in panels_of(dashboard):
        title = panel.get("title", "?")
        if ("placement pool only" in panel.get("description", "")) != (placement == "pool"):
            continue
        targets = [t for t in panel.get("targets", []) if t.get("expr")]
        if not targets:
            yield f"panel '{title}'", None
        for target in targets:
            yield f"panel '{title}' query {target.get('refId', '?')}", target["expr"]


def unfiltered_selectors(expr):
    """The distill_ series selectors of EXPR that do not match on job_name="$job"."""
    return [m.group(0) for m in SELECTOR.finditer(expr) if JOB_MATCHER not in (m.group(2) or "")]


def substitute(expr, job, interval):
    for name in ("__rate_interval", "__interval", "__range"):
        expr = expr.replace("${" + name + "}", interval).replace("$" + name, interval)
    return expr.replace("${job}", job).replace("$job", job)


def get(url, path, params):
    """The JSON answer of a Prometheus API GET (errors come back as JSON too)."""
    request = urllib.request.Request(url + path + "?" + urllib.parse.urlencode(params))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:  # 400/422: a bad query; the body says why
        try:
            return json.load(e)
        except ValueError:
            return {"status": "error", "error": f"HTTP {e.code}"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dashboard")
    parser.add_argument("prometheus")
    parser.add_argument("job")
    parser.add_argument("--interval", default="5s")
    parser.add_argument("--wait", type=float, default=30)
    parser.add_argument("--placement", default="replicate",
                        help="the job's teacher placement; pool: check the teacher-rank panels")
    args = parser.parse_args()
    with open(args.dashboard) as f:
        dashboard = json.load(f)
    deadline = time.monotonic() + args.wait
    failures = []

    # The $job variable lists the job (Grafana runs label_values() through this API).
    variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
    job_var = variables.get("job")
    match = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", str(job_var and job_var.get("query")))
    if not match:
        failures.append("variable $job: no label_values(METRIC, LABEL) query")
    else:
        metric, label = match.groups()
        answer = get(args.prometheus, f"/api/v1/label/{label}/values", {"match[]": metric})
        values = answer.get("data") or []
        if args.job not in values:
            failures.append(f"variable $job: label_values({metric}, {label}) = {values}, not {args.job}")
        else:
            print(f"ok  variable $job: label_values({metric}, {label}) lists {args.job}")

    n = 0
    for name, expr in queries_of(dashboard, args.placement):
        if expr is None:
            failures.append(f"{name}: no PromQL query")
            continue
        n += 1
        unfiltered = unfiltered_selectors(expr)
        if unfiltered:
            failures.append(f"{name}: selectors without {JOB_MATCHER}: {', '.join(unfiltered)}")
            continue
        query = substitute(expr, args.job, args.interval)
        while True:
            answer = get(args.prometheus, "/api/v1/query", {"query": query})
            series = len(answer.get("data", {}).get("result", []))
            if answer.get("status") != "success" or series > 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if answer.get("status") != "success":
            failures.append(f"{name}: {answer.get('errorType', '')} {answer.get('error', '')}\n    {query}")
        elif series == 0:
            failures.append(f"{name}: no series\n    {query}")
        else:
            print(f"ok  {name}: {series} series")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    if n == 0:
        print("FAIL: the dashboard has no queries", file=sys.stderr)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
