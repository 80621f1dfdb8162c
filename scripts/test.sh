#!/usr/bin/env bash
# Set-up plus the whole test suite: installs what is missing, builds with ASan+UBSan (gcc),
# runs a short smoke of every libFuzzer target (clang build, scripts/fuzz.sh), then ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
bash scripts/fuzz.sh --smoke
ctest --preset test -j "$(nproc)"
