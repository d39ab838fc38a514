#!/usr/bin/env bash
# Installs every Debian package the build and the tests need (idempotent), then
# builds the `distill` command into build/ (what the demo and jobs need; the
# tests' targets are built by launch/test.sh). Run as root (or with sudo
# available) on Debian bookworm. One line per stage; the package manager's
# output goes to build/setup-apt.log, the build's progress to the terminal.
#
#   launch/setup.sh            # packages + the distill command
#   launch/setup.sh --no-build # packages only
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake git pkg-config
  libtorch-dev libgloo-dev libopenblas0-pthread python3-torch python3-numpy
  libopenmpi-dev openmpi-bin
  libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev
  clang  # libFuzzer and the sanitizers for the fuzz targets (tests/fuzz)
  libpcre2-dev libicu-dev  # tokenizers: pre-tokenizer regexes, NFC
  libsentencepiece-dev sentencepiece  # tokenizer.model files; spm_train / spm_encode in the tokenizer tests
  curl procps
  node-typescript  # tsc: type-checks the Grafana dashboard (tests/monitoring/grafana_schema.sh)
)
# Installed without recommends: the Prometheus server (and promtool) for the metrics
# tests; Slurm and munge for the Slurm tests (tests/slurm/, they start their own daemons).
NO_RECOMMENDS=(prometheus slurmctld slurmd munge slurm-client)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

missing=()
for p in "${PACKAGES[@]}" "${NO_RECOMMENDS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
mkdir -p build
log=build/setup-apt.log
apt() {
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "$@" >>"$log" 2>&1 ||
    { echo "setup: apt-get $* failed; the last lines of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
}
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: [1/3] installing ${#missing[@]} Debian packages (a few minutes; log: $log): ${missing[*]}"
  apt update -q
  apt install -y -q "${PACKAGES[@]}"
  apt install -y -q --no-install-recommends "${NO_RECOMMENDS[@]}"
else
  echo "setup: [1/3] Debian packages: all installed"
fi

# npm fetches @grafana/schema for the dashboard test. A machine whose Node.js
# comes with its own npm keeps it; otherwise Debian's npm is installed.
if ! command -v npm >/dev/null; then
  echo "setup: installing npm (log: $log)"
  apt update -q
  apt install -y -q npm
fi

[ "${1:-}" = "--no-build" ] && exit 0

JOBS="${DISTILL_BUILD_JOBS:-$(nproc)}"
echo "setup: [2/3] configuring build/ (cmake)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >build/setup-cmake.log 2>&1 ||
  { echo "setup: cmake failed; build/setup-cmake.log:" >&2; tail -n 30 build/setup-cmake.log >&2; exit 1; }
echo "setup: [3/3] building build/distill with $JOBS jobs (about 15 minutes on 2 cores the first time)"
cmake --build build -j "$JOBS" --target distill
echo "setup: built build/distill"
