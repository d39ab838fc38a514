#!/usr/bin/env bash
# Every dashboard in monitoring/grafana/*.json type-checks against Grafana's
# published dashboard schema: the npm package @grafana/schema (version pinned in
# tests/monitoring/grafana/package.json) with `tsc --noEmit --strict` (Debian's
# node-typescript). Wrong types, unknown keys and missing required fields fail;
# panel `options` and query targets are free-form in the schema and are not
# checked here (tests/monitoring/grafana_queries.sh runs the queries).
#
# The package is installed once into a cache: <build dir>/grafana-schema (next
# to the distill binary), or DISTILL_GRAFANA_SCHEMA_CACHE; it is reinstalled
# when package-lock.json changes. Needs the npm registry on the first run.
source "$(dirname "$0")/../mpi/lib.sh"  # SRC, BIN, WORK (removed on exit), fail
HERE="$SRC/tests/monitoring/grafana"

if ! command -v tsc >/dev/null; then
  echo "installing node-typescript (tsc)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q node-typescript >/dev/null ||
    { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q node-typescript >/dev/null; } ||
    fail "cannot install node-typescript: run launch/setup.sh"
fi
command -v tsc >/dev/null || fail "tsc missing after installing node-typescript"
command -v npm >/dev/null || fail "npm missing: it installs @grafana/schema"

# The schema package, in a cache keyed by the lock file.
npm_cache "$HERE" "${DISTILL_GRAFANA_SCHEMA_CACHE:-$(dirname "$BIN")/grafana-schema}" \
  node_modules/@grafana/schema/package.json
version="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
  "$CACHE/node_modules/@grafana/schema/package.json")"

# One .ts file per dashboard: the JSON verbatim from line $HEADER+1 on, so an
# error's line number minus $HEADER is its line in the JSON file.
TS="$WORK/ts"
mkdir -p "$TS"
ln -s "$CACHE/node_modules" "$TS/node_modules"
cp "$HERE/dashboard-json.ts" "$TS/"
HEADER=3
dashboards=("$SRC"/monitoring/grafana/*.json)
[ -f "${dashboards[0]}" ] || fail "no dashboards in $SRC/monitoring/grafana"
files=("dashboard-json.ts")
for json in "${dashboards[@]}"; do
  "$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$json" 2>"$WORK/err" ||
    fail "$json is not valid JSON: $(tail -n 1 "$WORK/err")"
  name="$(basename "$json" .json)"
  {
    echo "// Generated from $json by $0."
    echo "import type { DashboardJson } from './dashboard-json';"
    echo "export const dashboard: DashboardJson ="
    cat "$json"
    echo ";"
  } > "$TS/$name.ts"
  files+=("$name.ts")
done

# tsc names a place as FILE.ts(LINE,COL); point dashboard errors at the JSON file.
if ! (cd "$TS" && tsc --noEmit --strict --pretty false --target es2020 --module es2020 \
        --moduleResolution node "${files[@]}") > "$WORK/tsc.log" 2>&1; then
  awk -v header="$HEADER" -v dir="$SRC/monitoring/grafana" '
    match($0, /^[^(]+\.ts\(([0-9]+),([0-9]+)\)/) && $0 !~ /^dashboard-json\.ts/ {
      file = substr($0, 1, index($0, "(") - 1); sub(/\.ts$/, ".json", file)
      split(substr($0, RSTART, RLENGTH), pos, /[(,)]/)
      print dir "/" file ":" pos[2] - header ":" pos[3] substr($0, RSTART + RLENGTH); next
    }
    { print }' "$WORK/tsc.log" | cut -c1-600 >&2
  fail "the dashboards do not type-check against @grafana/schema $version (errors above)"
fi
for json in "${dashboards[@]}"; do echo "ok  ${json#"$SRC"/}"; done
echo "PASS grafana_schema (@grafana/schema $version, tsc $(tsc --version | sed 's/^Version //'))"
