#!/usr/bin/env bash
# Set-up plus the main job: builds the release preset and runs `vtdsim demo` (a VM with a
# passthrough NIC receiving traffic; prints the report). Extra arguments go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh release
build/release/tools/vtdsim demo "$@"
