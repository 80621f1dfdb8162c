#!/usr/bin/env bash
# Installs the Debian packages vtdsim needs (only those missing), then configures and builds
# the given CMake preset (default: release). Idempotent; run as root on Debian 12.
set -euo pipefail
preset="${1:-release}"
cd "$(dirname "$0")/.."

packages=(cmake g++ ninja-build pkg-config clang-format libfmt-dev libeigen3-dev libgtest-dev
          libgmock-dev libbenchmark-dev libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
          libexpected-dev gnuplot-nox)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

jobs="$(nproc)"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
