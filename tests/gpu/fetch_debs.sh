#!/usr/bin/env bash
# Downloads (does not install) the Debian packages the GPU build needs beside
# the PyTorch of the GPU machine: Open MPI, Protobuf, prometheus-cpp,
# yaml-cpp, CLI11, nlohmann-json and the libraries they load. They go into
# gpu-debs/ (git-ignored); tests/gpu/run.sh unpacks them into a private prefix
# there, never into /. Run on this project's Debian machine (apt-get update once).
#
#   tests/gpu/fetch_debs.sh            # then carry gpu-debs/ to the GPU machine
set -euo pipefail
cd "$(dirname "$0")/../.."
PACKAGES=(
  # MPI: the launcher, the library, the headers and what its components load
  openmpi-bin openmpi-common libopenmpi3 libopenmpi-dev libpmix2 libhwloc15 libevent-core-2.1-7
  libevent-pthreads-2.1-7 libevent-2.1-7 libfabric1 libucx0 libibverbs1 librdmacm1 libnl-3-200
  libnl-route-3-200 libpsm2-2 libpsm-infinipath1 libnuma1 libmunge2 libltdl7
  # control plane and config
  # c10d's ProcessGroupGloo.hpp includes Gloo's headers, which the torch wheel lacks
  libgloo-dev
  protobuf-compiler libprotoc32 libprotobuf32 libprotobuf-lite32 libprotobuf-dev
  libyaml-cpp0.7 libyaml-cpp-dev nlohmann-json3-dev libcli11-dev
  # tokenizers: PCRE2, ICU and SentencePiece (found through pkg-config)
  pkg-config pkgconf pkgconf-bin libpkgconf3
  libpcre2-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3 libicu-dev libicu72 icu-devtools
  libsentencepiece-dev libsentencepiece0
  # metrics: prometheus-cpp and what its CMake package asks for
  prometheus-cpp-dev libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libprometheus-cpp-push1.0
  libcivetweb1 libcivetweb-dev civetweb libcurl4 libcurl4-openssl-dev zlib1g-dev
)
mkdir -p gpu-debs
cd gpu-debs
apt-get download "${PACKAGES[@]}"
du -sh .
