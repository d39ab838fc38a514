#!/usr/bin/env bash
# Installs every Debian package the build and the tests need (idempotent), then
# builds into build/. Run as root (or with sudo available) on Debian bookworm.
#
#   launch/setup.sh            # packages + build
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
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q "${PACKAGES[@]}"
  $SUDO apt-get install -y -q --no-install-recommends "${NO_RECOMMENDS[@]}"
fi

# npm fetches @grafana/schema for the dashboard test. A machine whose Node.js
# comes with its own npm keeps it; otherwise Debian's npm is installed.
if ! command -v npm >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q npm
fi

[ "${1:-}" = "--no-build" ] && exit 0

JOBS="${DISTILL_BUILD_JOBS:-$(nproc)}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$JOBS"
echo "setup: built build/distill"
