#!/usr/bin/env bash
# The example Prometheus config and the alert rules are valid (promtool check
# config / check rules), and the alert rules pass their unit tests
# (monitoring/prometheus/distill-alerts.test.yml). Offline: no server, no job.
set -euo pipefail
SRC="${DISTILL_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
PROM="$SRC/monitoring/prometheus"
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v promtool >/dev/null || fail "promtool missing: run launch/setup.sh"

promtool check config "$PROM/prometheus.yml" || fail "promtool check config rejected $PROM/prometheus.yml"
promtool check rules "$PROM/distill-alerts.yml" || fail "promtool check rules rejected $PROM/distill-alerts.yml"
promtool test rules "$PROM/distill-alerts.test.yml" || fail "alert rule unit tests failed ($PROM/distill-alerts.test.yml)"
# Every alert the rules define has a unit test.
for alert in $(sed -n 's/^ *- alert: *//p' "$PROM/distill-alerts.yml"); do
  grep -q "alertname: $alert\$" "$PROM/distill-alerts.test.yml" || fail "alert $alert has no unit test"
done
echo "PASS promtool"
