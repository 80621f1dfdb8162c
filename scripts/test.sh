#!/usr/bin/env bash
# Set-up plus the whole test suite: installs what is missing, builds with ASan+UBSan, runs ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
ctest --preset test -j "$(nproc)"
